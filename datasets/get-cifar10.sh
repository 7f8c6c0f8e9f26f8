#!/bin/bash
# CIFAR-10, binary version (Krizhevsky 2009): downloads cifar-10-binary.tar.gz from the authors'
# site over HTTPS, checks the archive md5, extracts it, and checks the md5 of each batch file.
# `--verify DIR` checks an existing folder offline. Never commit the data (data/ is git-ignored).
NAME=CIFAR-10
FOLDER=cifar-10-batches-bin
source "$(dirname "$0")/common.sh"

URL=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
ARCHIVE_MD5=c32a1d4ab5d03f1284b67883e8d87530
FILES=(
  "5dd7e06a14cb22eb9f671a540d1b7c25 data_batch_1.bin"
  "5ea93a67294ea407fff1d09f752e9692 data_batch_2.bin"
  "942cd6a4bcdd0dd3c604fbe906cb4421 data_batch_3.bin"
  "ae636b3ba5c66a11e91e8cb52e771fcb data_batch_4.bin"
  "53f37980c15c3d472c316c40844f3f0d data_batch_5.bin"
  "803d5f7f4d78ea53de84dbe85f74fb6d test_batch.bin"
)

parse_args "$@"
get_tar_dataset "$URL" "$ARCHIVE_MD5" cifar-10-batches-bin
