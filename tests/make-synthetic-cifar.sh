#!/bin/bash
# Writes a small CIFAR-10 binary folder (data_batch_1..5.bin, test_batch.bin) of random but
# class-dependent images with balanced labels, for tests that need a dataset when the real
# CIFAR-10 is absent (a clean CI machine). Files are written atomically; an existing folder is
# kept. The files are smaller than CIFAR-10's 10000 records, so readers must be run with
# ISBENCH_DATA_ANY_SIZE=1 (ctest sets it for every test).
# usage: make-synthetic-cifar.sh DIR [TRAIN_RECORDS_PER_BATCH (100)] [TEST_RECORDS (100)]
set -euo pipefail
dir=$1; per_batch=${2:-100}; test_records=${3:-100}
[ -f "$dir/test_batch.bin" ] && exit 0
python3 - "$dir" "$per_batch" "$test_records" <<'PY'
import os, random, sys
d, per_batch, test_records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d, exist_ok=True)
rng = random.Random(12)
def write(name, n):
    labels = [i % 10 for i in range(n)]
    rng.shuffle(labels)
    tmp = os.path.join(d, name + ".tmp.%d" % os.getpid())
    with open(tmp, "wb") as f:
        for c in labels:
            f.write(bytes([c]) + bytes(min(255, 40 + 20 * c + rng.randrange(60)) for _ in range(3072)))
    os.replace(tmp, os.path.join(d, name))
for b in range(1, 6):
    write("data_batch_%d.bin" % b, per_batch)
write("test_batch.bin", test_records)
PY
