// A port of Pillow's separable resampling (Resample.c, 8 bits per channel) for interleaved RGB.
// Used where libvips and PIL disagree most: enlarging small images. Pillow resizes horizontally
// first, rounds to 8 bits, then vertically, with 22-bit fixed-point weights; we do the same so the
// result matches the reference preprocessing (PIL + torchvision) pixel for pixel.

export type PilFilter = 'bicubic' | 'bilinear' | 'lanczos';

const PRECISION_BITS = 32 - 8 - 2;

const FILTERS: Record<PilFilter, { support: number; weight: (x: number) => number }> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight: (x) => {
      const sinc = (t: number): number => (t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t));
      return x > -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0;
    },
  },
};

interface Coefficients {
  /** First input index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** Fixed-point weights, `taps` per output index. */
  weights: Int32Array;
  taps: number;
}

function coefficients(inSize: number, outSize: number, filter: PilFilter): Coefficients {
  const { support: baseSupport, weight } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const row = new Float64Array(taps);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const min = Math.max(0, Math.trunc(center - support + 0.5));
    const max = Math.min(inSize, Math.trunc(center + support + 0.5)) - min;
    let total = 0;
    for (let x = 0; x < max; x++) {
      row[x] = weight((x + min - center + 0.5) / filterScale);
      total += row[x];
    }
    for (let x = 0; x < max; x++) {
      const k = total !== 0 ? row[x] / total : 0;
      weights[xx * taps + x] = Math.trunc(k < 0 ? -0.5 + k * (1 << PRECISION_BITS) : 0.5 + k * (1 << PRECISION_BITS));
    }
    start[xx] = min;
    count[xx] = max;
  }
  return { start, count, weights, taps };
}

function clip8(v: number): number {
  const x = v >> PRECISION_BITS; // arithmetic shift, as in Pillow
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/** Resizes interleaved 8-bit RGB (3 channels) exactly as Pillow's Image.resize does. */
export function resampleRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  filter: PilFilter,
): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width}x${height} RGB, got ${rgb.length} bytes`);
  const half = 1 << (PRECISION_BITS - 1);
  let src = rgb;
  let w = width;
  if (outWidth !== width) {
    const c = coefficients(width, outWidth, filter);
    const out = new Uint8Array(outWidth * height * 3);
    for (let y = 0; y < height; y++) {
      const rowIn = y * width * 3;
      const rowOut = y * outWidth * 3;
      for (let xx = 0; xx < outWidth; xx++) {
        let r = half;
        let g = half;
        let b = half;
        const k = xx * c.taps;
        const first = rowIn + c.start[xx] * 3;
        for (let x = 0; x < c.count[xx]; x++) {
          const wgt = c.weights[k + x];
          const i = first + x * 3;
          r += src[i] * wgt;
          g += src[i + 1] * wgt;
          b += src[i + 2] * wgt;
        }
        out[rowOut + xx * 3] = clip8(r);
        out[rowOut + xx * 3 + 1] = clip8(g);
        out[rowOut + xx * 3 + 2] = clip8(b);
      }
    }
    src = out;
    w = outWidth;
  }
  if (outHeight === height) return src;
  const c = coefficients(height, outHeight, filter);
  const out = new Uint8Array(w * outHeight * 3);
  const stride = w * 3;
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < outHeight; yy++) {
    // row by row, so that memory is read in order
    acc.fill(half);
    const k = yy * c.taps;
    for (let y = 0; y < c.count[yy]; y++) {
      const wgt = c.weights[k + y];
      const row = (c.start[yy] + y) * stride;
      for (let xx = 0; xx < stride; xx++) acc[xx] += src[row + xx] * wgt;
    }
    const rowOut = yy * stride;
    for (let xx = 0; xx < stride; xx++) out[rowOut + xx] = clip8(acc[xx]);
  }
  return out;
}
