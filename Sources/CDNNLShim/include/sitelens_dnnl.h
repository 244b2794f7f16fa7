// SiteLens's one doorway to oneDNN: Keras "same" 2-D convolutions on NHWC activations and
// [kh, kw, in, out] (Keras) weights. Every difference between the oneDNN 2.x and 3.x C APIs is
// hidden in sitelens_dnnl.c; callers never see a oneDNN type.
#ifndef SITELENS_DNNL_H
#define SITELENS_DNNL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One convolution at one batch size.
typedef struct {
    int batch;
    int in_height, in_width, in_channels;
    int out_height, out_width, out_channels;
    int kernel, stride;
    int pad_top, pad_left, pad_bottom, pad_right;
    /// 0: none, 1: ReLU, 2: tanh, applied to the output as a fused post-op.
    int activation;
    int has_bias;
    /// 1: activations in the layout oneDNN prefers (blocked; reordered from and to NHWC around
    /// each primitive); 0: oneDNN works on the NHWC activations directly.
    int blocked_activations;
    /// 1: src, weights and the output gradient go to oneDNN in bf16 (converted from the caller's
    /// f32 by reorders); dst, dSrc, dW and db come back in f32, accumulated in f32. Callers check
    /// `sitelens_dnnl_has_bf16` first; creation fails where only a reference kernel would run.
    int bf16;
    /// Under bf16 only. 1: the caller holds this side's activations and their gradients in bf16
    /// (NHWC, one uint16 each: src and src_gradient for `src_bf16`, dst and dst_gradient for
    /// `dst_bf16`), as between two bf16 convolutions; oneDNN reads and writes them directly, with
    /// no conversion. A bf16 output is the Float result rounded once (to nearest even), as the
    /// conversion the next layer would make gives; the activation must be none or ReLU.
    int src_bf16, dst_bf16;
} sitelens_conv_shape;

/// Primitives (forward, backward-data, backward-weights) and reorders of one convolution shape.
typedef struct sitelens_conv sitelens_conv;

/// Creates the primitives; on failure returns NULL and writes a message into `error`.
sitelens_conv *sitelens_conv_create(const sitelens_conv_shape *shape, char *error, size_t error_length);
void sitelens_conv_destroy(sitelens_conv *conv);

/// dst = act(conv(src, weights) + bias). NHWC src/dst (Float, or bf16 where the shape says so),
/// hwio weights. Returns 0 on success.
int sitelens_conv_forward(sitelens_conv *conv, const void *src, const float *weights, const float *bias, void *dst);

/// Given dZ (the output gradient already multiplied by act'), ADDS dW (hwio) and db into
/// `weight_gradient`/`bias_gradient` and, when `src_gradient` is not NULL, WRITES dSrc (NHWC).
/// When `src` is the address the last successful forward on this `conv` read, it must still
/// hold the values read then: backward may use the copy forward converted instead of `src`.
int sitelens_conv_backward(sitelens_conv *conv, const void *src, const void *dst_gradient, const float *weights,
                           float *weight_gradient, float *bias_gradient, void *src_gradient);

/// ReLU's backward on bf16 values: zeroes `gradient[i]` where `output[i]` is not above zero
/// (NaN included), as the Float version does.
void sitelens_bf16_relu_backward(unsigned short *gradient, const unsigned short *output, size_t count);

/// The oneDNN version and CPU threading runtime, e.g. "oneDNN 2.6.3 (GNU OpenMP)".
const char *sitelens_dnnl_description(void);

/// The widest instruction set oneDNN dispatches to on this CPU, by oneDNN's name for it
/// (e.g. "avx512_core_bf16"); DNNL_MAX_CPU_ISA in the environment caps it.
const char *sitelens_dnnl_cpu_isa(void);

/// 1 when oneDNN runs bf16 convolutions in hardware here (its ISA avx512_core_bf16 or wider:
/// AVX512_BF16 or AMX), 0 when it could only emulate them.
int sitelens_dnnl_has_bf16(void);

/// Sets the threads oneDNN's OpenMP runtime uses; returns 0 when the runtime is not OpenMP.
int sitelens_dnnl_set_threads(int count);

/// The message of the last failed call on this thread.
const char *sitelens_dnnl_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
