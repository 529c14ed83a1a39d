package io.tandem.engine.forward;

import io.tandem.engine.kernels.LinearWeight;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.WeightMatrix;

import java.util.ArrayList;
import java.util.List;

/**
 * A model's matrices in the form its {@link MatMul} multiplies fastest ({@link MatMul#pack}), made once when the
 * model is loaded. The {@link ModelWeights} they come from stay as they are (the GGUF view).
 */
record PackedWeights(List<Layer> layers, LinearWeight output) {

    record Layer(LinearWeight wq, LinearWeight wk, LinearWeight wv, LinearWeight wo, LinearWeight gate,
                 LinearWeight up, LinearWeight down) {
    }

    /** Packs every matrix, several at once on {@code matmul}'s pool. */
    static PackedWeights of(ModelWeights w, MatMul matmul) {
        List<WeightMatrix> all = new ArrayList<>();
        for (LayerWeights l : w.layers()) all.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
        all.add(w.output());
        LinearWeight[] packed = new LinearWeight[all.size()];
        matmul.pool().run(packed.length, (i, worker) -> packed[i] = matmul.pack(all.get(i)));
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i + 1 < packed.length; i += 7) {
            layers.add(new Layer(packed[i], packed[i + 1], packed[i + 2], packed[i + 3], packed[i + 4], packed[i + 5],
                    packed[i + 6]));
        }
        return new PackedWeights(List.copyOf(layers), packed[packed.length - 1]);
    }
}
