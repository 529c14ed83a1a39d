package io.tandem.worker;

import io.tandem.launcher.options.OptionDef;
import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** Reads a program's JSON conf file into options (gateway and worker alike). */
public final class ConfFile {
    private ConfFile() {
    }

    /**
     * The options in {@code file}, or in the program's default conf file when {@code file} is null and that exists
     * (relative to the working directory), or none.
     *
     * @throws IOException              the file given cannot be read
     * @throws IllegalArgumentException it is not a JSON object, or a key or value is wrong (the message names it)
     */
    public static Map<OptionDef<?>, Object> read(Program program, Path file, Consumer<String> warnings) throws IOException {
        Path f = file;
        if (f == null) {
            Path fallback = Path.of(program.defaultConf());
            if (!Files.isRegularFile(fallback)) return Map.of();
            f = fallback;
        }
        String text;
        try {
            text = Files.readString(f);
        } catch (IOException e) {
            throw new IOException("cannot read config file " + f + ": " + e.getMessage(), e);
        }
        JsonObject json;
        try {
            json = new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            throw new IllegalArgumentException("config file " + f + " is not a JSON object: " + e.getMessage());
        }
        return OptionValues.fromConf(program, json.getMap(), f.toString(), warnings);
    }
}
