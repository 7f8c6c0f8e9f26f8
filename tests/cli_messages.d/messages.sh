# Messages that name the problem and the fix (issue 23). Sourced by cli_test.sh ($isb, check).
# A platform whose driver offers no device is not "no platform": PoCL with no usable device driver.
if [ -r /etc/OpenCL/vendors/pocl.icd ]; then
  check "platform without a device named" 1 "1 OpenCL platform\\(s\\) found, but none offers a usable device: 'Portable Computing Language': clGetDeviceIDs returned CL_DEVICE_NOT_FOUND" \
        env POCL_DEVICES=no-such-driver "$isb" devices
  out=$(env POCL_DEVICES=no-such-driver "$isb" devices 2>&1)
  if grep -q "no OpenCL platform found" <<<"$out"; then echo "FAIL platform without a device: also says 'no OpenCL platform found'"; fail=$((fail+1))
  else echo "ok   platform without a device is not 'no platform'"; pass=$((pass+1)); fi
fi
# torchvision's pickle folder gets a pointer to the binary version and its download script.
py_dir=$(mktemp -d)/cifar-10-batches-py
mkdir -p "$py_dir"; touch "$py_dir"/{data_batch_1,data_batch_2,data_batch_3,data_batch_4,data_batch_5,test_batch,batches.meta}
check "torchvision pickle layout named" 1 "Python \\(pickle\\) version.*binary version.*datasets/get-cifar10.sh" "$isb" data --data "$py_dir"
rm -r "$(dirname "$py_dir")"
check "suite without --preset lists every preset" 2 "--preset P is required \\(one of $("$isb" configs --presets | paste -sd, | sed 's/,/, /g')\\)" "$isb" suite
