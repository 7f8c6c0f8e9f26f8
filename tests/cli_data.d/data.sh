# `isbench data` (sourced by tests/cli_test.sh, which defines check and $isb): good and bad input.
empty_data=$(mktemp -d)
check "data --help"            0 "usage: isbench data"                          "$isb" data --help
check "data bad option"        2 "Try 'isbench data --help'"                    "$isb" data --bogus
check "data bad subset"        2 "option --subset needs an integer"            "$isb" data --subset x
check "data unknown dataset"   2 "unknown dataset 'imagenet'"                   "$isb" data --dataset imagenet --data "$empty_data"
check "data missing files"     1 "data_batch_1.bin.*datasets/get-cifar10.sh.*--data" "$isb" data --data "$empty_data"
check "data via ISBENCH_DATA"  1 "$empty_data/data_batch_1.bin"                env ISBENCH_DATA="$empty_data" "$isb" data
rmdir "$empty_data"
shared_cifar="$(dirname "$0")/../../shared/datasets/cifar-10-batches-bin"
if [ -f "$shared_cifar/test_batch.bin" ]; then
  check "data real cifar10"    0 "train  50000 images.*5000 to 5000"            "$isb" data --data "$shared_cifar"
fi
