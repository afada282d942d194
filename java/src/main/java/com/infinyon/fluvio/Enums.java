package com.infinyon.fluvio;

import java.util.Locale;

/** Maps Rust variant names (CamelCase) to Java enum constants. Thread-safety: stateless. */
final class Enums {
    private Enums() {}

    /** {@code "LeaderOffline"} to {@code LEADER_OFFLINE}. */
    static <E extends Enum<E>> E constant(Class<E> type, String camelCase) {
        StringBuilder name = new StringBuilder();
        for (int i = 0; i < camelCase.length(); i++) {
            char c = camelCase.charAt(i);
            if (i > 0 && Character.isUpperCase(c)) {
                name.append('_');
            }
            name.append(Character.toUpperCase(c));
        }
        return Enum.valueOf(type, name.toString().toUpperCase(Locale.ROOT));
    }
}
