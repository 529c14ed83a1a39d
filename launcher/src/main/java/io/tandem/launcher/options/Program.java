package io.tandem.launcher.options;

import java.util.Locale;

/** The programs that take Tandem's options. */
public enum Program {
    GATEWAY,
    WORKER;

    /** {@code gateway} or {@code worker}. */
    public String shortName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code gateway.jar} or {@code worker.jar}: the command's name in help and messages. */
    public String jar() {
        return shortName() + ".jar";
    }

    /** The conf file read when {@code --conf} is not given and it exists (relative to the working directory). */
    public String defaultConf() {
        return "conf/" + shortName() + ".json";
    }
}
