package io.tandem.engine.forward;

/** Told, on the forward pass's thread, when a layer's keys and values of every span of the batch are in the cache. */
@FunctionalInterface
public interface LayerListener {
    LayerListener NONE = layer -> { };

    /** Must not block for long: the forward pass waits for it. */
    void onLayerStored(int layer);
}
