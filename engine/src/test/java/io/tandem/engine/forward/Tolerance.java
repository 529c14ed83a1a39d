package io.tandem.engine.forward;

/**
 * How close logits must be to llama.cpp's (testdata/README.md section 3, FORTUNE-MODEL-README.md section 6).
 * F32 models: relative 1e-4, argmax equal at every step. Q8_0 models (llama.cpp also quantizes activations, this
 * engine does not): an absolute bound, argmax equal only where the golden margin is clear.
 */
record Tolerance(double absolute, double relative, double argmaxMargin) {

    static Tolerance forModel(String model) {
        return switch (model) {
            case TestModels.QWEN3 -> new Tolerance(4.0, 0, 1.5);
            case TestModels.FORTUNE_Q8 -> new Tolerance(0.25, 0, 0.25);
            default -> new Tolerance(0, 1e-4, 0);
        };
    }

    boolean isF32() {
        return relative > 0;
    }

    /** Allowed |ours - golden|. */
    double bound(double golden) {
        return isF32() ? relative * Math.max(1, Math.abs(golden)) : absolute;
    }
}
