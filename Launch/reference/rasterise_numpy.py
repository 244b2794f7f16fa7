"""The seed's NumPy rasteriser (a 5 Å box, 256 × 256 at linspace(0, a, 256), σ = 0.2 Å), timed.

Run by `sitelens bench rasterise` beside SiteLens's own rasteriser. Prints one JSON object:
{"2": ms_per_image, "20": ..., "200": ...}.
"""
import json
import sys
import time

import numpy as np


def seed_image(pos_x, pos_y, a=5.0, grid=256, sigma=0.2):
    points = np.linspace(0, a, grid)
    X, Y = np.meshgrid(points, points)
    image = np.zeros((grid, grid))
    for p_x, p_y in zip(pos_x, pos_y):
        dx1 = X - p_x
        dy1 = Y - p_y
        dr1 = np.sqrt(dx1 ** 2 + dy1 ** 2)
        image = image + np.exp(-(dr1 ** 2 / (2 * (sigma ** 2))))
    return image


def main():
    counts = [int(c) for c in sys.argv[1].split(",")] if len(sys.argv) > 1 else [2, 20, 200]
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = np.random.default_rng(0)
    result = {}
    for n in counts:
        images = 0
        start = time.perf_counter()
        while True:
            seed_image(rng.random(n) * 5, rng.random(n) * 5)
            images += 1
            elapsed = time.perf_counter() - start
            if elapsed >= budget and images >= 3:
                break
        result[str(n)] = 1000 * elapsed / images
    print(json.dumps(result))


if __name__ == "__main__":
    main()
