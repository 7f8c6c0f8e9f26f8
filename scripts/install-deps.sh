#!/bin/bash
# Installs what isbench needs to build, test and plot on Debian 12 (run as root or with sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo \
  libclblast-dev libbenchmark-dev libcmocka-dev libjansson-dev libopenblas-dev zlib1g-dev libgsl-dev \
  oclgrind gnuplot-nox curl python3-pandas \
  slurmctld slurmd slurm-client munge \
  fonts-urw-base35 python3-venv libclc-15  # fonts: gnuplot's Helvetica (Nimbus Sans; DejaVu is wider and breaks the legends); scripts/install-runtimes.sh: venv for Intel's runtime; libclc (data only, no ICD) for rusticl
