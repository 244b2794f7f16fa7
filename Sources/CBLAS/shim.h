#include <cblas.h>

// LAPACK from the same OpenBLAS library. Debian's libopenblas-dev ships no lapacke.h, so the one
// Fortran routine SiteLens calls is declared here (32-bit LAPACK integers, every argument by
// pointer, no hidden string lengths since it takes no character arguments).
// DGELSD: minimum-norm least squares min ||A x - b|| by the SVD; rank-deficient A is allowed.
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
             double *s, const double *rcond, int *rank, double *work, const int *lwork, int *iwork, int *info);
