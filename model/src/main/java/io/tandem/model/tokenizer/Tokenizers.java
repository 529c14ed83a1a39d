package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufMetadata;

/** Chooses and builds the tokenizer for a GGUF vocabulary. */
final class Tokenizers {
    private Tokenizers() {
    }

    static Tokenizer fromGguf(GgufMetadata md) {
        String model = md.getString(Vocabulary.KEY_PREFIX + "model", null);
        if (model == null) throw new TokenizerException("the GGUF metadata has no tokenizer.ggml.model");
        return switch (model) {
            // SentencePiece vocabularies have no pre-tokenizer: tokenizer.ggml.pre is ignored, as in llama.cpp
            case "llama" -> new SentencePieceTokenizer(Vocabulary.fromGguf(md, Vocabulary.Defaults.SPM));
            case "gpt2" -> {
                PreTokenizer pre = PreTokenizer.forName(md.getString(Vocabulary.KEY_PREFIX + "pre", "default"));
                if (!md.contains(Vocabulary.KEY_PREFIX + "merges")) {
                    throw new TokenizerException("gpt2 vocabulary without tokenizer.ggml.merges");
                }
                Vocabulary vocab = Vocabulary.fromGguf(md, Vocabulary.Defaults.bpe(pre.addBos(), pre.cleanSpaces()));
                yield new BytePairTokenizer(vocab, pre, md.getStringArray(Vocabulary.KEY_PREFIX + "merges"));
            }
            default -> throw new TokenizerException("unsupported tokenizer.ggml.model '" + model
                    + "' (supported: llama = SentencePiece, gpt2 = byte-level BPE)");
        };
    }
}
