#!/bin/bash
# MNIST (LeCun et al.): downloads the four IDX .gz files over HTTPS from the mirror torchvision
# uses (the original yann.lecun.com serves plain HTTP only) and checks the official md5 of each.
# isbench reads the .gz files directly. `--verify DIR` checks an existing folder offline.
NAME=MNIST
FOLDER=mnist
source "$(dirname "$0")/common.sh"

BASE_URL=https://ossci-datasets.s3.amazonaws.com/mnist
GZ_MD5=(
  [train-images-idx3-ubyte]=f68b3c2dcbeaaa9fbdd348bbdeb94873
  [train-labels-idx1-ubyte]=d53e105ee54ea40749a09fcbcd1e9432
  [t10k-images-idx3-ubyte]=9fb629c4189551a2d022fa330f9573f3
  [t10k-labels-idx1-ubyte]=ec29112dd5afa0611ce80d1b7f02629c
)
RAW_SIZE=(
  [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008
)

parse_args "$@"
if [ "$MODE" = verify ]; then verify_idx "$DEST"; exit; fi
if [ -d "$DEST" ] && verify_idx "$DEST" >/dev/null 2>&1; then echo "$NAME already present and verified in $DEST"; exit 0; fi
get_idx "$BASE_URL"
