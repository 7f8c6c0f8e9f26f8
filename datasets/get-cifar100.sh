#!/bin/bash
# CIFAR-100, binary version: downloads cifar-100-binary.tar.gz from the authors' site over HTTPS,
# checks the archive md5 (published on https://www.cs.toronto.edu/~kriz/cifar.html), extracts it,
# and checks train.bin / test.bin. `--verify DIR` checks an existing folder offline.
NAME=CIFAR-100
FOLDER=cifar-100-binary
source "$(dirname "$0")/common.sh"

URL=https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz
ARCHIVE_MD5=03b5dce01913d631647c71ecec9e9cb8
# Per-file md5s of the archive's members, as recorded by other projects (not published by the
# authors); the archive md5 above is the authoritative check on download.
FILES=(
  "6172c7755cfe09b2fe270c85cebc1b15 train.bin"
  "4499cfba6c016c1be1438163640a0898 test.bin"
)

parse_args "$@"
get_tar_dataset "$URL" "$ARCHIVE_MD5" cifar-100-binary
