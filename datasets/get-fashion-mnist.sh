#!/bin/bash
# Fashion-MNIST (Xiao et al. 2017): takes the files from Debian's dataset-fashion-mnist package if
# it is installed (offline), else downloads the four IDX .gz files over HTTPS from the authors'
# GitHub repository; checks each file. isbench reads the .gz files directly.
# `--verify DIR` checks an existing folder offline.
NAME=Fashion-MNIST
FOLDER=fashion-mnist
source "$(dirname "$0")/common.sh"

BASE_URL=https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion
DEBIAN_DIR=/usr/share/datasets/fashion-mnist   # apt-get install dataset-fashion-mnist
GZ_MD5=(
  [train-images-idx3-ubyte]=8d4fb7e6c68d591d4c3dfef9ec88bf0d
  [train-labels-idx1-ubyte]=25c81989df183df01b3e8a0aad5dffbe
  [t10k-images-idx3-ubyte]=bef4ecab320f06d8554ea6380940ec79
  [t10k-labels-idx1-ubyte]=bb300cfdad3c16e7a12a480ee83cd310
)
# Debian recompresses the files, so its .gz md5s differ; the decompressed content must match.
RAW_MD5=(
  [train-images-idx3-ubyte]=f4a8712d7a061bf5bd6d2ca38dc4d50a
  [train-labels-idx1-ubyte]=9018921c3c673c538a1fc5bad174d6f9
  [t10k-images-idx3-ubyte]=8181f5470baa50b63fa0f6fddb340f0a
  [t10k-labels-idx1-ubyte]=15d484375f8d13e6eb1aabb0c3f46965
)

parse_args "$@"
if [ "$MODE" = verify ]; then verify_idx "$DEST"; exit; fi
if [ -d "$DEST" ] && verify_idx "$DEST" >/dev/null 2>&1; then echo "$NAME already present and verified in $DEST"; exit 0; fi
if [ -d "$DEBIAN_DIR" ] && verify_idx "$DEBIAN_DIR"; then
  mkdir -p "$DEST"
  for name in "${IDX_FILES[@]}"; do cp "$DEBIAN_DIR/$name.gz" "$DEST/$name.gz"; done
  echo "$NAME copied from Debian's dataset-fashion-mnist package into $DEST"
  exit 0
fi
get_idx "$BASE_URL"
