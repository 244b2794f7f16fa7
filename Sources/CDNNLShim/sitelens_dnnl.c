// Keras "same" convolutions through oneDNN's C API, for oneDNN 2.x and 3.x alike.
//
// Callers hand over NHWC activations and hwio ([kh, kw, in, out], Keras's) weights. Each
// primitive is created with format `any`, so oneDNN picks its own (blocked) layouts; a reorder
// is created only where the layout it picked differs from the caller's, once per shape.
#include "sitelens_dnnl.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------------------------
// Every oneDNN 2.x / 3.x difference lives in this block.
// 2.x: memory descriptors are structs, convolutions start from operation descriptors, and
//      eltwise post-ops take a scale. 3.x: descriptors are handles, primitive descriptors are
//      created directly (with dilations), and the scale is gone.
// ---------------------------------------------------------------------------------------------
static const dnnl_dim_t no_dilation[2] = {0, 0};

#if DNNL_VERSION_MAJOR >= 3
typedef dnnl_memory_desc_t owned_md;
typedef const_dnnl_memory_desc_t md_ref;
static md_ref md(const owned_md *m) { return *m; }
static dnnl_status_t md_make(owned_md *m, int ndims, const dnnl_dim_t *dims, dnnl_data_type_t type, dnnl_format_tag_t tag) {
    return dnnl_memory_desc_create_with_tag(m, ndims, dims, type, tag);
}
static void md_free(owned_md *m) {
    if (*m) dnnl_memory_desc_destroy(*m);
    *m = NULL;
}
static dnnl_status_t append_eltwise(dnnl_post_ops_t ops, dnnl_alg_kind_t alg) {
    return dnnl_post_ops_append_eltwise(ops, alg, 0.f, 0.f);
}
static dnnl_status_t forward_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref src, md_ref weights, md_ref bias,
                                md_ref dst, const dnnl_dim_t *strides, const dnnl_dim_t *pad_l, const dnnl_dim_t *pad_r,
                                const_dnnl_primitive_attr_t attr) {
    return dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_training, dnnl_convolution_direct, src,
                                                          weights, bias, dst, strides, no_dilation, pad_l, pad_r, attr);
}
static dnnl_status_t backward_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref diff_src, md_ref weights,
                                      md_ref diff_dst, const dnnl_dim_t *strides, const dnnl_dim_t *pad_l,
                                      const dnnl_dim_t *pad_r, const_dnnl_primitive_desc_t hint) {
    return dnnl_convolution_backward_data_primitive_desc_create(pd, engine, dnnl_convolution_direct, diff_src, weights,
                                                                diff_dst, strides, no_dilation, pad_l, pad_r, hint, NULL);
}
static dnnl_status_t backward_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref src, md_ref diff_weights,
                                         md_ref diff_bias, md_ref diff_dst, const dnnl_dim_t *strides,
                                         const dnnl_dim_t *pad_l, const dnnl_dim_t *pad_r,
                                         const_dnnl_primitive_desc_t hint) {
    return dnnl_convolution_backward_weights_primitive_desc_create(pd, engine, dnnl_convolution_direct, src, diff_weights,
                                                                   diff_bias, diff_dst, strides, no_dilation, pad_l,
                                                                   pad_r, hint, NULL);
}
#else
typedef dnnl_memory_desc_t owned_md;
typedef const dnnl_memory_desc_t *md_ref;
static md_ref md(const owned_md *m) { return m; }
static dnnl_status_t md_make(owned_md *m, int ndims, const dnnl_dim_t *dims, dnnl_data_type_t type, dnnl_format_tag_t tag) {
    return dnnl_memory_desc_init_by_tag(m, ndims, dims, type, tag);
}
static void md_free(owned_md *m) { (void)m; }
static dnnl_status_t append_eltwise(dnnl_post_ops_t ops, dnnl_alg_kind_t alg) {
    return dnnl_post_ops_append_eltwise(ops, 1.f, alg, 0.f, 0.f);
}
static dnnl_status_t forward_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref src, md_ref weights, md_ref bias,
                                md_ref dst, const dnnl_dim_t *strides, const dnnl_dim_t *pad_l, const dnnl_dim_t *pad_r,
                                const_dnnl_primitive_attr_t attr) {
    dnnl_convolution_desc_t desc;
    dnnl_status_t status = dnnl_dilated_convolution_forward_desc_init(
        &desc, dnnl_forward_training, dnnl_convolution_direct, src, weights, bias, dst, strides, no_dilation, pad_l, pad_r);
    return status != dnnl_success ? status : dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
}
static dnnl_status_t backward_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref diff_src, md_ref weights,
                                      md_ref diff_dst, const dnnl_dim_t *strides, const dnnl_dim_t *pad_l,
                                      const dnnl_dim_t *pad_r, const_dnnl_primitive_desc_t hint) {
    dnnl_convolution_desc_t desc;
    dnnl_status_t status = dnnl_dilated_convolution_backward_data_desc_init(
        &desc, dnnl_convolution_direct, diff_src, weights, diff_dst, strides, no_dilation, pad_l, pad_r);
    return status != dnnl_success ? status : dnnl_primitive_desc_create(pd, &desc, NULL, engine, hint);
}
static dnnl_status_t backward_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t engine, md_ref src, md_ref diff_weights,
                                         md_ref diff_bias, md_ref diff_dst, const dnnl_dim_t *strides,
                                         const dnnl_dim_t *pad_l, const dnnl_dim_t *pad_r,
                                         const_dnnl_primitive_desc_t hint) {
    dnnl_convolution_desc_t desc;
    dnnl_status_t status = dnnl_dilated_convolution_backward_weights_desc_init(
        &desc, dnnl_convolution_direct, src, diff_weights, diff_bias, diff_dst, strides, no_dilation, pad_l, pad_r);
    return status != dnnl_success ? status : dnnl_primitive_desc_create(pd, &desc, NULL, engine, hint);
}
#endif
// ---------------------------------------------------------------------------------------------

static __thread char last_error[512];

const char *sitelens_dnnl_last_error(void) { return last_error; }

static void record(const char *what, dnnl_status_t status) {
    snprintf(last_error, sizeof last_error, "oneDNN: %s failed (%s)", what, dnnl_status2str(status));
}

#define CHECK(call)                                         \
    do {                                                    \
        dnnl_status_t status_ = (call);                     \
        if (status_ != dnnl_success) {                      \
            record(#call, status_);                         \
            goto failed;                                    \
        }                                                   \
    } while (0)

// One CPU engine and one in-order stream for the process.
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_status_t engine_status = dnnl_success;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void make_engine(void) {
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    if (engine_status == dnnl_success) engine_status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
}

/// A primitive argument as the caller holds it (`user`) and as the primitive wants it (`inner`:
/// `user` itself when the layouts agree, else an owned buffer with a reorder between them).
/// Weights also keep a copy of what was last reordered (`reordered_from`): they change once a
/// step but are brought in by every forward and backward call, and each reorder is an OpenMP
/// parallel region that costs far more than comparing a few thousand floats.
typedef struct {
    dnnl_memory_t user, inner;
    dnnl_primitive_t reorder;
    float *reordered_from;
    size_t reordered_count;
} binding;

static dnnl_status_t bind(binding *b, md_ref user_md, md_ref inner_md, int user_to_inner) {
    dnnl_status_t status = dnnl_memory_create(&b->user, user_md, engine, DNNL_MEMORY_NONE);
    if (status != dnnl_success) return status;
    if (dnnl_memory_desc_equal(user_md, inner_md)) {
        b->inner = b->user;
        return dnnl_success;
    }
    status = dnnl_memory_create(&b->inner, inner_md, engine, DNNL_MEMORY_ALLOCATE);
    if (status != dnnl_success) return status;
    dnnl_primitive_desc_t pd;
    status = user_to_inner ? dnnl_reorder_primitive_desc_create(&pd, user_md, engine, inner_md, engine, NULL)
                           : dnnl_reorder_primitive_desc_create(&pd, inner_md, engine, user_md, engine, NULL);
    if (status != dnnl_success) return status;
    status = dnnl_primitive_create(&b->reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    return status;
}

static void unbind(binding *b) {
    free(b->reordered_from);
    if (b->reorder) dnnl_primitive_destroy(b->reorder);
    if (b->inner && b->inner != b->user) dnnl_memory_destroy(b->inner);
    if (b->user) dnnl_memory_destroy(b->user);
    memset(b, 0, sizeof *b);
}

static dnnl_status_t run_reorder(dnnl_primitive_t reorder, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return dnnl_primitive_execute(reorder, stream, 2, args);
}

/// Points the binding at the caller's buffer and, for an input, brings it into the inner layout.
static dnnl_status_t bring_in(binding *b, const void *data) {
    dnnl_status_t status = dnnl_memory_set_data_handle(b->user, (void *)data);
    if (status != dnnl_success || !b->reorder) return status;
    return run_reorder(b->reorder, b->user, b->inner);
}

/// `bring_in` for weights: the reorder runs only when the values differ from the last ones it
/// reordered (compared, not assumed: the caller may hand over any buffer).
static dnnl_status_t bring_in_weights(binding *b, const float *data, size_t count) {
    if (!b->reorder) return dnnl_memory_set_data_handle(b->user, (void *)data);
    size_t bytes = count * sizeof(float);
    if (b->reordered_count == count && memcmp(b->reordered_from, data, bytes) == 0) return dnnl_success;
    b->reordered_count = 0; // no valid copy until this reorder has succeeded
    dnnl_status_t status = bring_in(b, data);
    if (status != dnnl_success) return status;
    if (!b->reordered_from) b->reordered_from = malloc(bytes);
    if (!b->reordered_from) return dnnl_success; // without a copy every call reorders: slower, still right
    memcpy(b->reordered_from, data, bytes);
    b->reordered_count = count;
    return dnnl_success;
}

static dnnl_status_t take_out(binding *b) {
    return b->reorder ? run_reorder(b->reorder, b->inner, b->user) : dnnl_success;
}

struct sitelens_conv {
    sitelens_conv_shape shape;
    dnnl_primitive_t forward, backward_data, backward_weights;
    binding src, weights, dst;                             // forward
    binding data_weights, data_dst_gradient, src_gradient;   // backward-data
    binding weights_src, weights_dst_gradient, weight_gradient; // backward-weights
    /// Where the last forward read its src (NULL before one succeeded), and whether the
    /// backward passes can read the inner copies forward and backward-weights made (same
    /// layout and type) instead of converting the same values again: under bf16 each
    /// conversion reads and writes a whole activation tensor.
    const void *forward_src;
    int backward_reads_forward_src, backward_data_reads_weights_dst_gradient;
    dnnl_memory_t bias, bias_gradient;
    float *weight_gradient_scratch, *bias_gradient_scratch; // hwio and [out], added into the caller's
    size_t weight_count;
    /// Per kernel tap (kh × kw): 1 when it meets only padding at every output position.
    unsigned char *padding_only_taps;
};

/// Whether tap `k` along one dimension reads the input (not padding) at some output position.
static int tap_meets_input(int k, int in, int out, int stride, int pad) {
    for (int o = 0; o < out; o++) {
        long i = (long)o * stride - pad + k;
        if (i >= 0 && i < in) return 1;
    }
    return 0;
}

/// Marks the taps that only ever meet padding (a 3×3/2 convolution of a 1×1 image has eight).
/// Their weight gradient is exactly zero, yet oneDNN 2.6's bf16 weight-gradient kernel hands
/// back whatever its scratch memory held for them: stale values, NaN in a later network.
static int find_padding_only_taps(sitelens_conv *c) {
    const sitelens_conv_shape *s = &c->shape;
    c->padding_only_taps = calloc((size_t)s->kernel * s->kernel, 1);
    if (!c->padding_only_taps) return 0;
    for (int ky = 0; ky < s->kernel; ky++) {
        for (int kx = 0; kx < s->kernel; kx++) {
            c->padding_only_taps[ky * s->kernel + kx] = !tap_meets_input(ky, s->in_height, s->out_height, s->stride, s->pad_top)
                                                     || !tap_meets_input(kx, s->in_width, s->out_width, s->stride, s->pad_left);
        }
    }
    return 1;
}

static dnnl_primitive_desc_t make_forward(const sitelens_conv_shape *s, md_ref src, md_ref weights, md_ref bias, md_ref dst,
                                          const dnnl_dim_t *strides, const dnnl_dim_t *pad_l, const dnnl_dim_t *pad_r) {
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    CHECK(dnnl_primitive_attr_create(&attr));
    if (s->activation != 0) {
        CHECK(dnnl_post_ops_create(&ops));
        CHECK(append_eltwise(ops, s->activation == 1 ? dnnl_eltwise_relu : dnnl_eltwise_tanh));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, ops));
    }
    CHECK(forward_pd(&pd, engine, src, weights, bias, dst, strides, pad_l, pad_r, attr));
failed:
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return pd;
}

/// Under bf16, oneDNN's slow reference kernels (or emulation) are refused rather than used.
static int refuse_reference(const_dnnl_primitive_desc_t pd, const char *pass) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return 0;
    if (strncmp(name, "ref", 3) != 0) return 0;
    snprintf(last_error, sizeof last_error,
             "oneDNN has no bf16 %s kernel for this convolution on this CPU (only its slow reference, %s)", pass, name);
    return 1;
}

static int create_primitives(sitelens_conv *c) {
    const sitelens_conv_shape *s = &c->shape;
    // oneDNN orders dimensions N, C, H, W (and O, I, H, W for weights) whatever the layout.
    const dnnl_dim_t src_dims[4] = {s->batch, s->in_channels, s->in_height, s->in_width};
    const dnnl_dim_t dst_dims[4] = {s->batch, s->out_channels, s->out_height, s->out_width};
    const dnnl_dim_t weight_dims[4] = {s->out_channels, s->in_channels, s->kernel, s->kernel};
    const dnnl_dim_t bias_dims[1] = {s->out_channels};
    const dnnl_dim_t strides[2] = {s->stride, s->stride};
    const dnnl_dim_t pad_l[2] = {s->pad_top, s->pad_left}, pad_r[2] = {s->pad_bottom, s->pad_right};
    // Each primitive reads its inputs (src, weights, diff_dst) in `in` and writes its outputs
    // (dst, diff_src, diff_weights, diff_bias) in f32. Under bf16 the inputs are bf16, reordered
    // from the caller's f32 by the bindings, and oneDNN accumulates in f32: nothing the caller
    // gets back was rounded to bf16 after the products were summed, except the activations and
    // activation gradients of a side the caller holds in bf16 (rounded once, when written).
    // A side the caller holds in bf16 (between two bf16 convolutions) is bf16 in both
    // directions, activations and gradients, and needs no conversion at all.
    const dnnl_data_type_t in = s->bf16 ? dnnl_bf16 : dnnl_f32;
    const dnnl_data_type_t src_user = s->src_bf16 ? dnnl_bf16 : dnnl_f32, dst_user = s->dst_bf16 ? dnnl_bf16 : dnnl_f32;
    if ((s->src_bf16 || s->dst_bf16) && (!s->bf16 || s->blocked_activations || (s->dst_bf16 && s->activation > 1))) {
        snprintf(last_error, sizeof last_error, "bf16 activations need bf16 convolutions, NHWC, and no activation or ReLU");
        return 0;
    }
    owned_md src_nhwc = {0}, dst_nhwc = {0}, weights_hwio = {0}, bias_x = {0};
    owned_md src_in = {0}, dst_in = {0}, weights_in = {0}, src_out = {0}, dst_out = {0}, weights_out = {0};
    dnnl_primitive_desc_t fwd = NULL, data = NULL, grads = NULL;
    int ok = 0;
    CHECK(md_make(&src_nhwc, 4, src_dims, src_user, dnnl_nhwc));
    CHECK(md_make(&dst_nhwc, 4, dst_dims, dst_user, dnnl_nhwc));
    CHECK(md_make(&weights_hwio, 4, weight_dims, dnnl_f32, dnnl_hwio));
    CHECK(md_make(&bias_x, 1, bias_dims, dnnl_f32, dnnl_x));
    const dnnl_format_tag_t activations = s->blocked_activations ? dnnl_format_tag_any : dnnl_nhwc;
    CHECK(md_make(&src_in, 4, src_dims, in, activations));
    CHECK(md_make(&dst_in, 4, dst_dims, in, activations));
    CHECK(md_make(&weights_in, 4, weight_dims, in, dnnl_format_tag_any));
    CHECK(md_make(&src_out, 4, src_dims, src_user, activations));
    CHECK(md_make(&dst_out, 4, dst_dims, dst_user, activations));
    CHECK(md_make(&weights_out, 4, weight_dims, dnnl_f32, dnnl_format_tag_any));
    md_ref bias = s->has_bias ? md(&bias_x) : NULL;

    fwd = make_forward(s, md(&src_in), md(&weights_in), bias, md(&dst_out), strides, pad_l, pad_r);
    if (!fwd) goto failed;
    CHECK(backward_data_pd(&data, engine, md(&src_out), md(&weights_in), md(&dst_in), strides, pad_l, pad_r, fwd));
    CHECK(backward_weights_pd(&grads, engine, md(&src_in), md(&weights_out), bias, md(&dst_in), strides, pad_l, pad_r, fwd));
    if (s->bf16 && (refuse_reference(fwd, "forward") || refuse_reference(data, "backward-data")
                    || refuse_reference(grads, "backward-weights"))) goto failed;
    CHECK(dnnl_primitive_create(&c->forward, fwd));
    CHECK(dnnl_primitive_create(&c->backward_data, data));
    CHECK(dnnl_primitive_create(&c->backward_weights, grads));

    CHECK(bind(&c->src, md(&src_nhwc), dnnl_primitive_desc_query_md(fwd, dnnl_query_src_md, 0), 1));
    CHECK(bind(&c->weights, md(&weights_hwio), dnnl_primitive_desc_query_md(fwd, dnnl_query_weights_md, 0), 1));
    CHECK(bind(&c->dst, md(&dst_nhwc), dnnl_primitive_desc_query_md(fwd, dnnl_query_dst_md, 0), 0));
    CHECK(bind(&c->data_weights, md(&weights_hwio), dnnl_primitive_desc_query_md(data, dnnl_query_weights_md, 0), 1));
    CHECK(bind(&c->src_gradient, md(&src_nhwc), dnnl_primitive_desc_query_md(data, dnnl_query_diff_src_md, 0), 0));
    CHECK(bind(&c->weights_dst_gradient, md(&dst_nhwc), dnnl_primitive_desc_query_md(grads, dnnl_query_diff_dst_md, 0), 1));
    CHECK(bind(&c->weight_gradient, md(&weights_hwio), dnnl_primitive_desc_query_md(grads, dnnl_query_diff_weights_md, 0), 0));
    // Where forward's converted src, or backward-weights' converted output gradient, has the
    // layout and type the other pass reads, that pass reads it and gets no copy of its own.
    c->backward_reads_forward_src = c->src.reorder
        && dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(fwd, dnnl_query_src_md, 0),
                                  dnnl_primitive_desc_query_md(grads, dnnl_query_src_md, 0));
    c->backward_data_reads_weights_dst_gradient = c->weights_dst_gradient.reorder
        && dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(grads, dnnl_query_diff_dst_md, 0),
                                  dnnl_primitive_desc_query_md(data, dnnl_query_diff_dst_md, 0));
    if (!c->backward_reads_forward_src) {
        CHECK(bind(&c->weights_src, md(&src_nhwc), dnnl_primitive_desc_query_md(grads, dnnl_query_src_md, 0), 1));
    }
    if (!c->backward_data_reads_weights_dst_gradient) {
        CHECK(bind(&c->data_dst_gradient, md(&dst_nhwc), dnnl_primitive_desc_query_md(data, dnnl_query_diff_dst_md, 0), 1));
    }
    if (s->has_bias) {
        CHECK(dnnl_memory_create(&c->bias, md(&bias_x), engine, DNNL_MEMORY_NONE));
        CHECK(dnnl_memory_create(&c->bias_gradient, md(&bias_x), engine, DNNL_MEMORY_NONE));
    }
    ok = 1;
failed:
    if (fwd) dnnl_primitive_desc_destroy(fwd);
    if (data) dnnl_primitive_desc_destroy(data);
    if (grads) dnnl_primitive_desc_destroy(grads);
    md_free(&src_nhwc); md_free(&dst_nhwc); md_free(&weights_hwio); md_free(&bias_x);
    md_free(&src_in); md_free(&dst_in); md_free(&weights_in);
    md_free(&src_out); md_free(&dst_out); md_free(&weights_out);
    return ok;
}

sitelens_conv *sitelens_conv_create(const sitelens_conv_shape *shape, char *error, size_t error_length) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) {
        record("dnnl_engine_create", engine_status);
        if (error) snprintf(error, error_length, "%s", last_error);
        return NULL;
    }
    sitelens_conv *c = calloc(1, sizeof *c);
    if (!c) {
        if (error) snprintf(error, error_length, "out of memory");
        return NULL;
    }
    c->shape = *shape;
    c->weight_count = (size_t)shape->kernel * shape->kernel * shape->in_channels * shape->out_channels;
    c->weight_gradient_scratch = calloc(c->weight_count, sizeof(float));
    c->bias_gradient_scratch = calloc((size_t)shape->out_channels, sizeof(float));
    if (!c->weight_gradient_scratch || !c->bias_gradient_scratch || !find_padding_only_taps(c)) {
        snprintf(last_error, sizeof last_error, "out of memory");
    } else if (create_primitives(c)) {
        return c;
    }
    if (error) snprintf(error, error_length, "%s", last_error);
    sitelens_conv_destroy(c);
    return NULL;
}

void sitelens_conv_destroy(sitelens_conv *c) {
    if (!c) return;
    if (c->forward) dnnl_primitive_destroy(c->forward);
    if (c->backward_data) dnnl_primitive_destroy(c->backward_data);
    if (c->backward_weights) dnnl_primitive_destroy(c->backward_weights);
    binding *all[] = {&c->src, &c->weights, &c->dst, &c->data_weights, &c->data_dst_gradient, &c->src_gradient,
                      &c->weights_src, &c->weights_dst_gradient, &c->weight_gradient};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) unbind(all[i]);
    if (c->bias) dnnl_memory_destroy(c->bias);
    if (c->bias_gradient) dnnl_memory_destroy(c->bias_gradient);
    free(c->weight_gradient_scratch);
    free(c->bias_gradient_scratch);
    free(c->padding_only_taps);
    free(c);
}

int sitelens_conv_forward(sitelens_conv *c, const void *src, const float *weights, const float *bias, void *dst) {
    c->forward_src = NULL; // until this forward has succeeded, src.inner holds nothing backward may read
    CHECK(bring_in(&c->src, src));
    CHECK(bring_in_weights(&c->weights, weights, c->weight_count));
    CHECK(dnnl_memory_set_data_handle(c->dst.user, dst));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, c->src.inner}, {DNNL_ARG_WEIGHTS, c->weights.inner}, {DNNL_ARG_DST, c->dst.inner}};
    int count = 3;
    if (c->shape.has_bias) {
        CHECK(dnnl_memory_set_data_handle(c->bias, (void *)bias));
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, c->bias};
    }
    CHECK(dnnl_primitive_execute(c->forward, stream, count, args));
    CHECK(take_out(&c->dst));
    CHECK(dnnl_stream_wait(stream));
    c->forward_src = src;
    return 0;
failed:
    return -1;
}

int sitelens_conv_backward(sitelens_conv *c, const void *src, const void *dst_gradient, const float *weights,
                           float *weight_gradient, float *bias_gradient, void *src_gradient) {
    // Weight (and bias) gradients: oneDNN overwrites, so they go to scratch and are added.
    // src is what the last forward read when the address matches (the header's promise), so
    // its converted copy is still in src.inner; another src is converted into it.
    dnnl_memory_t gradient_src;
    if (c->backward_reads_forward_src) {
        if (src != c->forward_src) {
            c->forward_src = NULL;
            CHECK(bring_in(&c->src, src));
            c->forward_src = src;
        }
        gradient_src = c->src.inner;
    } else {
        CHECK(bring_in(&c->weights_src, src));
        gradient_src = c->weights_src.inner;
    }
    CHECK(bring_in(&c->weights_dst_gradient, dst_gradient));
    CHECK(dnnl_memory_set_data_handle(c->weight_gradient.user, c->weight_gradient_scratch));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, gradient_src},
                               {DNNL_ARG_DIFF_DST, c->weights_dst_gradient.inner},
                               {DNNL_ARG_DIFF_WEIGHTS, c->weight_gradient.inner}};
    int count = 3;
    if (c->shape.has_bias) {
        CHECK(dnnl_memory_set_data_handle(c->bias_gradient, c->bias_gradient_scratch));
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_BIAS, c->bias_gradient};
    }
    CHECK(dnnl_primitive_execute(c->backward_weights, stream, count, args));
    CHECK(take_out(&c->weight_gradient));
    if (src_gradient) {
        CHECK(bring_in_weights(&c->data_weights, weights, c->weight_count));
        dnnl_memory_t data_dst_gradient = c->weights_dst_gradient.inner; // converted above, same layout
        if (!c->backward_data_reads_weights_dst_gradient) {
            CHECK(bring_in(&c->data_dst_gradient, dst_gradient));
            data_dst_gradient = c->data_dst_gradient.inner;
        }
        CHECK(dnnl_memory_set_data_handle(c->src_gradient.user, src_gradient));
        dnnl_exec_arg_t data_args[3] = {{DNNL_ARG_DIFF_DST, data_dst_gradient},
                                        {DNNL_ARG_WEIGHTS, c->data_weights.inner},
                                        {DNNL_ARG_DIFF_SRC, c->src_gradient.inner}};
        CHECK(dnnl_primitive_execute(c->backward_data, stream, 3, data_args));
        CHECK(take_out(&c->src_gradient));
    }
    CHECK(dnnl_stream_wait(stream));
    const size_t per_tap = (size_t)c->shape.in_channels * c->shape.out_channels; // hwio: one tap's weights are contiguous
    for (int tap = 0; tap < c->shape.kernel * c->shape.kernel; tap++) {
        if (c->padding_only_taps[tap]) memset(c->weight_gradient_scratch + tap * per_tap, 0, per_tap * sizeof(float));
    }
    for (size_t i = 0; i < c->weight_count; i++) weight_gradient[i] += c->weight_gradient_scratch[i];
    if (c->shape.has_bias && bias_gradient) {
        for (int o = 0; o < c->shape.out_channels; o++) bias_gradient[o] += c->bias_gradient_scratch[o];
    }
    return 0;
failed:
    return -1;
}

void sitelens_bf16_relu_backward(unsigned short *restrict gradient, const unsigned short *restrict output, size_t count) {
    // A bf16 above zero has its sign bit clear and is neither zero nor NaN: 0x0001 up to 0x7f80
    // (+inf), i.e. output - 1 below 0x7f80 in unsigned 16 bits. Every value is masked and
    // stored, with no branch, so the compiler makes it a vector loop (a conditional store kept
    // it scalar, and it ran on one core while oneDNN's second thread waited).
    for (size_t i = 0; i < count; i++) {
        unsigned short above_zero = (unsigned short)(output[i] - 1u) < 0x7f80u;
        gradient[i] &= (unsigned short)-above_zero;
    }
}

const char *sitelens_dnnl_description(void) {
    static char text[128];
    const dnnl_version_t *v = dnnl_version();
    const char *runtime = v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
                        : v->cpu_runtime == DNNL_RUNTIME_TBB ? "TBB"
                        : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                        : v->cpu_runtime == DNNL_RUNTIME_THREADPOOL ? "threadpool" : "other";
    snprintf(text, sizeof text, "oneDNN %d.%d.%d (%s threads)", v->major, v->minor, v->patch, runtime);
    return text;
}

/// The widest ISA oneDNN dispatches to here (the CPU's, capped by DNNL_MAX_CPU_ISA), by the
/// name oneDNN gives it; the enum's values are cumulative bit masks in 2.x and 3.x alike.
static int isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t wanted) { return (isa & wanted) == wanted; }

const char *sitelens_dnnl_cpu_isa(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (isa_has(isa, dnnl_cpu_isa_avx512_core_amx)) return "avx512_core_amx";
    if (isa_has(isa, dnnl_cpu_isa_avx512_core_bf16)) return "avx512_core_bf16";
    if (isa_has(isa, dnnl_cpu_isa_avx512_core_vnni)) return "avx512_core_vnni";
    if (isa_has(isa, dnnl_cpu_isa_avx512_core)) return "avx512_core";
    if (isa_has(isa, dnnl_cpu_isa_avx2)) return "avx2";
    if (isa_has(isa, dnnl_cpu_isa_avx)) return "avx";
    if (isa_has(isa, dnnl_cpu_isa_sse41)) return "sse41";
    return "no vector ISA";
}

int sitelens_dnnl_has_bf16(void) {
    // AMX CPUs have AVX512_BF16 too; oneDNN's avx512_core_bf16 level is both.
    return isa_has(dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core_bf16);
}

int sitelens_dnnl_set_threads(int count) {
    // The OpenMP runtime oneDNN was built with is already loaded with libdnnl; find its setter
    // there rather than linking one of our own (which could be a second, different runtime).
    void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (!set || dnnl_version()->cpu_runtime != DNNL_RUNTIME_OMP) return 0;
    set(count < 1 ? 1 : count);
    return 1;
}
