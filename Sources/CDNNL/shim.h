// oneDNN's C API. Only the CDNNLShim target includes it; Swift sees the shim's own header.
#include <oneapi/dnnl/dnnl.h>
