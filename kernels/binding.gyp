{
  "targets": [
    {
      "target_name": "procnas_kernels",
      "sources": ["host/binding.c", "src/batch_norm.c", "src/conv_grads.c", "src/conv_forward.c", "src/pointwise.c", "src/update.c"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-std=c11"],
      "cflags!": ["-O2", "-O0"]
    }
  ]
}
