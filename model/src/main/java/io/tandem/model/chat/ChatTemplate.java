package io.tandem.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import jinjava.javax.el.CompositeELResolver;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Hugging Face chat template (Jinja), rendered with Jinjava the way {@code apply_chat_template} renders it
 * with Python Jinja2: trim_blocks, lstrip_blocks, {@code {{-}} trimming, {@code raise_exception},
 * {@code tojson} with Python spacing, Python string methods, and the variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}. Immutable and safe to render from many
 * threads at once.
 */
public final class ChatTemplate {
    /** ChatML, for models whose file has no template. */
    public static final String CHATML_SOURCE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' "
            + "+ message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final long MAX_OUTPUT_CHARS = 64L << 20;
    private static final Jinjava JINJAVA = createJinjava();

    private final String source;
    private final String jinjavaSource;
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = Objects.requireNonNull(source, "source");
        this.jinjavaSource = HfTemplateSyntax.rewrite(source);
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
    }

    /**
     * A template from its Jinja source (e.g. GGUF {@code tokenizer.chat_template}) and the BOS/EOS token texts.
     *
     * @throws IllegalArgumentException when the template uses a filter or test that does not exist (Jinja2
     *                                  refuses such a template; Jinjava would silently skip the filter)
     */
    public static ChatTemplate of(String jinjaSource, String bosToken, String eosToken) {
        HfTemplateSyntax.Names used = HfTemplateSyntax.usedNames(jinjaSource);
        for (String f : used.filters()) {
            if (JINJAVA.getGlobalContext().getFilter(f) == null) {
                throw new IllegalArgumentException("chat template uses an unknown filter '" + f + "'");
            }
        }
        for (String t : used.tests()) {
            if (JINJAVA.getGlobalContext().getExpTest(t) == null) {
                throw new IllegalArgumentException("chat template uses an unknown test '" + t + "'");
            }
        }
        return new ChatTemplate(jinjaSource, bosToken, eosToken);
    }

    /** {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then {@code <|im_start|>assistant\n} if asked. */
    public static ChatTemplate chatMl() {
        return new ChatTemplate(CHATML_SOURCE, "", "");
    }

    /** The original Jinja source. */
    public String source() {
        return source;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) throws ChatTemplateException {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the conversation. {@code extraVariables} are passed to the template as well (e.g. {@code tools},
     * {@code enable_thinking}); they cannot override the four standard variables.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables)
            throws ChatTemplateException {
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", m.content());
            msgs.add(map);
        }
        Map<String, Object> vars = new HashMap<>(extraVariables);
        vars.put("messages", msgs);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        RenderResult result;
        try {
            result = JINJAVA.renderForResult(jinjavaSource, vars);
        } catch (TemplateFunctions.RaisedException e) {
            throw new ChatTemplateException(e.getMessage(), true);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template failed: " + e.getMessage(), false);
        }
        for (TemplateError error : result.getErrors()) {
            TemplateFunctions.RaisedException raised = raisedIn(error.getException());
            if (raised != null) throw new ChatTemplateException(raised.getMessage(), true);
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template error at line " + error.getLineno() + ": "
                        + error.getMessage(), false);
            }
        }
        return result.getOutput();
    }

    private static TemplateFunctions.RaisedException raisedIn(Throwable t) {
        for (int depth = 0; t != null && depth < 20; t = t.getCause(), depth++) {
            if (t instanceof TemplateFunctions.RaisedException r) return r;
        }
        return null;
    }

    private static Jinjava createJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true) // {{- and -}} trim like Jinja2
                        .withUsePyishObjectMapper(true) // lists and dicts print like Python's
                        .build())
                .withInterperterFactory(new TemplateFunctions.PythonPrintingFactory())
                .withElResolver(resolver)
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withNestedInterpretationEnabled(false) // message text is data, never template code
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                TemplateFunctions.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                TemplateFunctions.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ToJsonFilter());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.TrimFilter());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.LengthFilter("length"));
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.LengthFilter("count"));
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ItemsFilter());
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ExtremeFilter(true));
        jinjava.getGlobalContext().registerFilter(new TemplateFunctions.ExtremeFilter(false));
        return jinjava;
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + source.length() + " chars]";
    }
}
