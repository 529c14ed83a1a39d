package io.tandem.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** What both tokenizer models share: special-token splitting, BOS/EOS, pieces of special tokens, detokenizing. */
abstract sealed class BaseTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {
    static final byte[] EMPTY = new byte[0];
    private static final int SPECIAL = TokenAttr.UNKNOWN | TokenAttr.CONTROL;

    final Vocabulary vocab;

    BaseTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /**
     * Appends the ids of one plain-text fragment. {@code startsSegment}: the fragment is the first one or
     * follows a special token (SentencePiece adds its space prefix there).
     */
    abstract void encodeText(String text, boolean startsSegment, IntList out);

    /** The piece of a token that is neither control, unknown nor user-defined (NORMAL, BYTE, UNUSED...). */
    abstract byte[] plainPiece(int id, int attr);

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        Objects.requireNonNull(text, "text");
        IntList out = new IntList();
        if (addSpecial && vocab.addBos && vocab.bos >= 0) out.add(vocab.bos);
        boolean startsSegment = true;
        for (Fragment f : SpecialTokenSplitter.split(vocab, text, parseSpecial)) {
            switch (f) {
                case Fragment.Text(String t) -> {
                    encodeText(t, startsSegment, out);
                    startsSegment = false;
                }
                case Fragment.Special(int id) -> {
                    out.add(id);
                    startsSegment = true;
                }
            }
        }
        if (addSpecial && vocab.addEos && vocab.eos >= 0) out.add(vocab.eos);
        return out.toArray();
    }

    @Override
    public byte[] tokenToPiece(int id, boolean special) {
        int attr = vocab.attr(id);
        if ((attr & SPECIAL) != 0 && !special) return EMPTY;
        // control, unknown and user-defined tokens print their stored text verbatim
        if ((attr & (SPECIAL | TokenAttr.USER_DEFINED)) != 0) return vocab.text(id).getBytes(StandardCharsets.UTF_8);
        return plainPiece(id, attr);
    }

    @Override
    public byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        int from = 0;
        int to = ids.length;
        boolean stripSpace = vocab.addSpacePrefix;
        if (removeSpecial && vocab.addBos && to > 0 && ids[0] == vocab.bos) {
            stripSpace = false; // the text did not start here: keep the space the BOS was followed by
            from = 1;
        }
        if (removeSpecial && vocab.addEos && to > from && ids[to - 1] == vocab.eos) to--;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            byte[] piece = tokenToPiece(ids[i], unparseSpecial);
            int skip = stripSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            stripSpace = false;
        }
        byte[] bytes = out.toByteArray();
        return vocab.cleanSpaces ? SpaceCleaner.clean(bytes) : bytes;
    }

    @Override
    public IncrementalDetokenizer newDetokenizer(boolean stripLeadingSpace) {
        return new IncrementalDetokenizer(this, stripLeadingSpace && vocab.addSpacePrefix,
                vocab.addBos ? vocab.bos : -1, vocab.cleanSpaces);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bosId() {
        return vocab.bos;
    }

    @Override
    public int eosId() {
        return vocab.eos;
    }

    @Override
    public int[] endOfGenerationIds() {
        return vocab.endOfGeneration();
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    @Override
    public boolean isControl(int id) {
        return vocab.has(id, TokenAttr.CONTROL | TokenAttr.UNUSED | TokenAttr.UNKNOWN);
    }

    @Override
    public String tokenText(int id) {
        return vocab.text(id);
    }
}
