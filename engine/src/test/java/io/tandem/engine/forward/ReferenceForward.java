package io.tandem.engine.forward;

import io.tandem.engine.kernels.WeightMatrix;
import io.tandem.model.ModelConfig;

/**
 * testdata/README.md section 1.3 in double precision, written for clarity, not speed: the whole sequence is
 * recomputed, weights are decoded value by value with {@link WeightMatrix#get}. Adds what the goldens do not cover:
 * qwen2 biases, partial rotary dimensions, linear rope scaling and llama's rope frequency factors.
 */
final class ReferenceForward {
    private ReferenceForward() {
    }

    /** Logits for every position of {@code tokens}: {@code [n][vocab]}. */
    static double[][] logits(ModelWeights w, int[] tokens) {
        ModelConfig c = w.config();
        int n = tokens.length, e = c.embeddingLength(), hd = c.headDim(), heads = c.headCount(), kvh = c.headCountKv();
        double[][] x = new double[n][e];
        for (int t = 0; t < n; t++) for (int i = 0; i < e; i++) x[t][i] = w.tokenEmbd().get(tokens[t], i);
        for (LayerWeights l : w.layers()) {
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] h = norm(x[t], l.attnNorm(), c.rmsEps());
                q[t] = add(mul(l.wq(), h), l.bq());
                k[t] = add(mul(l.wk(), h), l.bk());
                v[t] = add(mul(l.wv(), h), l.bv());
                for (int j = 0; j < heads; j++) {
                    if (l.qNorm() != null) headNorm(q[t], j * hd, hd, l.qNorm(), c.rmsEps());
                    rope(q[t], j * hd, t, c, w.ropeFreqFactors());
                }
                for (int j = 0; j < kvh; j++) {
                    if (l.kNorm() != null) headNorm(k[t], j * hd, hd, l.kNorm(), c.rmsEps());
                    rope(k[t], j * hd, t, c, w.ropeFreqFactors());
                }
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[heads * hd];
                for (int j = 0; j < heads; j++) {
                    int g = j / (heads / kvh);
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p <= t; p++) {
                        for (int d = 0; d < hd; d++) s[p] += q[t][j * hd + d] * k[p][g * hd + d];
                        s[p] /= Math.sqrt(hd);
                        max = Math.max(max, s[p]);
                    }
                    double z = 0;
                    for (int p = 0; p <= t; p++) z += s[p] = Math.exp(s[p] - max);
                    for (int p = 0; p <= t; p++) {
                        for (int d = 0; d < hd; d++) att[j * hd + d] += s[p] / z * v[p][g * hd + d];
                    }
                }
                double[] o = mul(l.wo(), att);
                for (int i = 0; i < e; i++) x[t][i] += o[i];
                double[] h = norm(x[t], l.ffnNorm(), c.rmsEps());
                double[] gate = mul(l.gate(), h), up = mul(l.up(), h);
                for (int i = 0; i < gate.length; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                double[] down = mul(l.down(), gate);
                for (int i = 0; i < e; i++) x[t][i] += down[i];
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) out[t] = mul(w.output(), norm(x[t], w.outputNorm(), c.rmsEps()));
        return out;
    }

    private static double[] mul(WeightMatrix m, double[] x) {
        double[] y = new double[m.rows()];
        for (int r = 0; r < m.rows(); r++) for (int c = 0; c < m.cols(); c++) y[r] += m.get(r, c) * x[c];
        return y;
    }

    private static double[] add(double[] a, float[] bias) {
        if (bias != null) for (int i = 0; i < a.length; i++) a[i] += bias[i];
        return a;
    }

    private static double[] norm(double[] x, float[] weight, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double scale = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * scale * weight[i];
        return out;
    }

    private static void headNorm(double[] a, int off, int n, float[] weight, double eps) {
        double[] h = new double[n];
        System.arraycopy(a, off, h, 0, n);
        System.arraycopy(norm(h, weight, eps), 0, a, off, n);
    }

    private static void rope(double[] a, int off, int pos, ModelConfig c, float[] factors) {
        int dims = c.ropeDimensionCount();
        double scale = c.ropeScaling().type().equals("linear") ? 1.0 / c.ropeScaling().factor() : 1.0;
        for (int i = 0; i < dims / 2; i++) {
            double theta = pos * scale * Math.pow(c.ropeFreqBase(), -2.0 * i / dims) / (factors == null ? 1 : factors[i]);
            int x0 = c.ropeNeox() ? off + i : off + 2 * i;
            int x1 = c.ropeNeox() ? off + i + dims / 2 : off + 2 * i + 1;
            double a0 = a[x0], a1 = a[x1];
            a[x0] = a0 * Math.cos(theta) - a1 * Math.sin(theta);
            a[x1] = a0 * Math.sin(theta) + a1 * Math.cos(theta);
        }
    }
}
