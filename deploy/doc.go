// Package deploy holds no code: its tests check the deployment artifacts
// in this folder (the .deb built with nfpm, the Docker image and compose
// stack, the packaged configuration files) without a Docker engine and
// without installing anything.
package deploy
