package io.tandem.engine.forward;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/** A {@code <model>.generate.json} golden (llama.cpp reference: prompts, teacher-forced top-10 logits per step). */
public record Golden(String model, List<Prompt> prompts) {

    public record Prompt(String name, int[] promptIds, int[] generatedIds, List<Step> steps) {
    }

    /** {@code top}: 10 (id, logit) pairs, logit descending; {@code margin}: top-1 minus top-2. */
    public record Step(int token, float margin, int[] topIds, float[] topLogits) {
    }

    public static Golden load(String model) {
        try {
            JsonNode root = new ObjectMapper().readTree(TestModels.golden(model + ".generate.json").toFile());
            List<Prompt> prompts = new ArrayList<>();
            for (JsonNode p : root.get("prompts")) {
                List<Step> steps = new ArrayList<>();
                for (JsonNode s : p.get("steps")) {
                    JsonNode top = s.get("top");
                    int[] ids = new int[top.size()];
                    float[] logits = new float[top.size()];
                    for (int i = 0; i < top.size(); i++) {
                        ids[i] = top.get(i).get(0).asInt();
                        logits[i] = Float.parseFloat(top.get(i).get(1).asText());
                    }
                    steps.add(new Step(s.get("token").asInt(), Float.parseFloat(s.get("margin").asText()), ids, logits));
                }
                prompts.add(new Prompt(p.get("name").asText(), ints(p.get("prompt_ids")), ints(p.get("generated_ids")),
                        steps));
            }
            return new Golden(model, prompts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The full logits vector after prompt 0 ({@code <model>.prompt0.logits.f32}). */
    static float[] prompt0Logits(String model) {
        try {
            byte[] b = Files.readAllBytes(TestModels.golden(model + ".prompt0.logits.f32"));
            float[] out = new float[b.length / 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }
}
