// snnc_cublas_shim.h — the few cuBLAS calls the device executor makes, on the CPU through
// CBLAS (column-major, as cuBLAS), for the CUDA host shim (snnc_cuda_shim.h): lets
// runtime/cuda compile and run its training step without a GPU in the tests.
#pragma once
#include <cblas.h>

typedef struct snnc_cublas_context *cublasHandle_t;
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0 };
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;

inline cublasStatus_t cublasCreate(cublasHandle_t *handle) {
  *handle = nullptr;
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasDestroy(cublasHandle_t) {
  return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m,
                                  int n, int k, const float *alpha, const float *a, int lda,
                                  const float *b, int ldb, const float *beta, float *c, int ldc) {
  cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_T ? CblasTrans : CblasNoTrans,
              tb == CUBLAS_OP_T ? CblasTrans : CblasNoTrans, m, n, k, *alpha, a, lda, b, ldb, *beta,
              c, ldc);
  return CUBLAS_STATUS_SUCCESS;
}
