/* Basic vector kernels: axpy and a grid-stride partial sum (wg_reduce.cl's reduction), used by
 * tests. Work-group size comes from the host
 * (a power of two from the device query), never assumed. */

/* y[i] += a * x[i] for i < n */
__kernel void isb_axpy(const int n, const float a, __global const float *x, __global float *y) {
    int i = get_global_id(0);
    if (i < n) y[i] += a * x[i];
}

/* One partial sum per work-group: partial[group] = sum of x[i] over the group's grid-stride range.
 * Launch with a power-of-two local size and `scratch` of local_size floats. */
__kernel void isb_sum_partial(const int n, __global const float *x, __global float *partial,
                              __local float *scratch) {
    float acc = 0.0f;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) acc += x[i];
    float total = isb_wg_sum_float(acc, scratch);
    if (get_local_id(0) == 0) partial[get_group_id(0)] = total;
}
