"""Keras/TensorFlow references for `sitelens bench train`, timed the same way SiteLens is.

  keras_reference.py ryczko GRID BATCH STEPS [fp32|bf16]   -> {"samples_per_second": ...}
      Seed B's CNN (Ryczko et al.) on GRID x GRID x 1 images, Adam, MSE, one process; bf16 under
      Keras's mixed_bfloat16 policy (bf16 compute, float32 variables, the output layer in float32).
  keras_reference.py sites CSV EPOCHS           -> {"seconds": ..., "test_mae": ...}
      Seed A's site network on the COOH rows of the HEA site table: per site
      [group, period, electronegativity] + one-hot(site) -> Dense(6, tanh, no bias) -> Dense(1, no bias),
      summed over sites; 15 % held out, batch 32, Adam.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402
from tensorflow.keras import layers  # noqa: E402


def ryczko_model(grid):
    model = keras.Sequential()
    model.add(keras.Input(shape=(grid, grid, 1)))
    model.add(layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same", activation="relu"))
    for _ in range(6):
        model.add(layers.Conv2D(16, (4, 4), strides=1, padding="same", activation="relu"))
        model.add(layers.Conv2D(16, (4, 4), strides=1, padding="same", activation="relu"))
        model.add(layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same", activation="relu"))
    model.add(layers.Flatten())
    model.add(layers.Dense(1024, activation="relu"))
    # Under mixed_bfloat16 the output stays float32, as Keras's mixed-precision guide has it.
    model.add(layers.Dense(1, activation="linear", dtype="float32"))
    return model


def bench_ryczko(grid, batch, steps):
    model = ryczko_model(grid)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.random((batch, grid, grid, 1), dtype=np.float32)
    y = rng.random((batch, 1), dtype=np.float32)
    model.train_on_batch(x, y)  # build and warm up
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    elapsed = time.perf_counter() - start
    print(json.dumps({"samples_per_second": batch * steps / elapsed}))


def bench_sites(path, epochs):
    seed = {"Co": [9, 4, 1.88], "Fe": [8, 4, 1.83], "Cu": [11, 4, 1.90], "Ni": [10, 4, 1.91], "Mo": [6, 5, 2.16]}
    rows = [line.strip().split(",") for line in open(path, newline="").read().splitlines()]
    header, rows = rows[0], rows[1:]
    rows = [r for r in rows if r[-1] == "COOH" and all(e in seed for e in r[:10])]
    sites = 10
    x = np.array([[seed[r[s]] + [1.0 if k == s else 0.0 for k in range(sites)] for s in range(sites)] for r in rows], dtype=np.float32)
    y = np.array([float(r[10]) for r in rows], dtype=np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(rows))
    held = int(round(0.15 * len(rows)))
    test, train = order[:held], order[held:]
    inputs = keras.Input(shape=(sites, x.shape[2]))
    h = layers.Dense(6, activation="tanh", use_bias=False)(inputs)
    e = layers.Dense(1, use_bias=False)(h)
    out = layers.Lambda(lambda t: tf.reduce_sum(t, axis=1))(e)
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    start = time.perf_counter()
    model.fit(x[train], y[train], epochs=epochs, batch_size=32, verbose=0)
    elapsed = time.perf_counter() - start
    mae = float(np.mean(np.abs(model.predict(x[test], verbose=0).ravel() - y[test])))
    print(json.dumps({"seconds": elapsed, "test_mae": mae}))


if __name__ == "__main__":
    if sys.argv[1] == "ryczko":
        if len(sys.argv) > 5 and sys.argv[5] == "bf16":
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        bench_ryczko(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        bench_sites(sys.argv[2], int(sys.argv[3]))
