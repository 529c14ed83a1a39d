package io.tandem.model.chat;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatTemplateTest {

    @Test
    void chatMlFallback() throws Exception {
        ChatTemplate t = ChatTemplate.chatMl();
        List<ChatMessage> conversation = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"),
                ChatMessage.assistant("Hello."), ChatMessage.user("Bye"));
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
                + "<|im_start|>assistant\n", t.render(conversation, true));
        assertEquals("<|im_start|>user\nx<|im_end|>\n", t.render(List.of(ChatMessage.user("x")), false));
        assertEquals("<|im_start|>assistant\n", t.render(List.of(), true));
    }

    @Test
    void raiseExceptionBecomesChatTemplateException() {
        ChatTemplate t = ChatTemplate.of("{% if messages|length > 1 %}{{ raise_exception('only one message, got ' "
                + "~ messages|length) }}{% endif %}{{ messages[0].content }}", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> t.render(List.of(ChatMessage.user("a"), ChatMessage.user("b")), true));
        assertEquals("only one message, got 2", e.getMessage());
        assertTrue(e.raisedByTemplate());
    }

    @Test
    void brokenTemplatesFailWithAClearError() {
        for (String source : List.of("{% for m in messages %}no end", "{% if %}x{% endif %}", "{{ nofunc(1) }}",
                "{{ messages[0].content.no_such_method() }}", "{% foo %}")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> ChatTemplate.of(source, "", "").render(List.of(ChatMessage.user("a")), true), source);
            assertFalse(e.raisedByTemplate(), source);
            assertTrue(e.getMessage().startsWith("chat template error"), e.getMessage());
        }
    }

    @Test
    void unknownFiltersAndTestsAreRefusedLikeJinja2Does() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.of("{{ messages[0].content | no_such_filter }}", "", ""));
        assertTrue(e.getMessage().contains("'no_such_filter'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.of("{% if x is not no_such_test %}{% endif %}", "", ""));
        assertTrue(e.getMessage().contains("'no_such_test'"), e.getMessage());
        // names inside string literals are text, not filters
        ChatTemplate.of("{{ 'a | no_such_filter' ~ (x is defined) }}{% filter upper %}x{% endfilter %}", "", "");
    }

    @Test
    void messageTextIsNeverTemplateCode() throws Exception {
        String content = "{{ raise_exception('x') }} {% for %} {# #} {{ 7*7 }}";
        assertEquals("<|im_start|>user\n" + content + "<|im_end|>\n",
                ChatTemplate.chatMl().render(List.of(ChatMessage.user(content)), false));
    }

    @Test
    void extraVariablesReachTheTemplateButCannotOverrideTheStandardOnes() throws Exception {
        ChatTemplate t = ChatTemplate.of("{{ bos_token }}{% if enable_thinking is false %}no-think{% endif %}"
                + "{{ messages|length }}", "<s>", "</s>");
        assertEquals("<s>no-think1", t.render(List.of(ChatMessage.user("a")), true,
                Map.of("enable_thinking", false, "bos_token", "X", "messages", List.of())));
    }

    @Test
    void nullContentRendersAsEmptyText() throws Exception {
        assertEquals("<|im_start|>assistant\n<|im_end|>\n",
                ChatTemplate.chatMl().render(List.of(new ChatMessage("assistant", null)), false));
    }

    @Test
    void rendersConcurrently() throws Exception {
        ChatTemplate t = ChatTemplate.of("{% set ns = namespace(n=messages|length - 1) %}{% for m in messages[::-1] %}"
                + "{{ m.content.strip() }}{{ ns.n }};{% endfor %}", "", "");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int task = 0; task < 64; task++) {
                int k = task;
                results.add(pool.submit(() -> {
                    List<ChatMessage> msgs = new ArrayList<>();
                    StringBuilder expected = new StringBuilder();
                    for (int i = 0; i <= k % 5; i++) msgs.add(ChatMessage.user(" m" + k + "-" + i + " "));
                    for (int i = k % 5; i >= 0; i--) expected.append("m").append(k).append('-').append(i).append(k % 5).append(';');
                    for (int rep = 0; rep < 20; rep++) if (!t.render(msgs, true).contentEquals(expected)) return false;
                    return true;
                }));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
