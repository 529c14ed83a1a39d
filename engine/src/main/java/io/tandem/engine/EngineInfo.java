package io.tandem.engine;

/**
 * @param modelName     the served name
 * @param vocabSize     rows of the output layer
 * @param contextLength maximum prompt + generated tokens of a sequence
 * @param blockSize     tokens per KV block
 */
public record EngineInfo(String modelName, int vocabSize, int contextLength, int blockSize) {}
