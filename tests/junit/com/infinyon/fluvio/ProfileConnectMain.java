package com.infinyon.fluvio;

import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link ConnectTest} and {@link ProfilesTest}, with
 * {@code FLV_PROFILE_PATH} set: connects through the profile file the environment names and
 * prints one line per argument.
 *
 * <p>Arguments: {@code current} connects with {@link Fluvio#connect()}; {@code profiles} lists
 * the file with {@link FluvioProfiles#load()}; any other word connects with
 * {@link Fluvio#connectWithProfile(String)}. Each line is
 * {@code <argument> topics=<name,name,...>} on success, {@code <argument> error=<code>} (plus
 * the TLS failure, if any) on failure, and
 * {@code profiles path=<path> names=<name,...> current=<name>} for {@code profiles}.
 */
public final class ProfileConnectMain {
    private ProfileConnectMain() {}

    public static void main(String[] args) {
        for (String arg : args) {
            System.out.println(arg + " " + attempt(arg));
        }
    }

    private static String attempt(String arg) {
        if ("profiles".equals(arg)) {
            try {
                FluvioProfiles profiles = FluvioProfiles.load();
                return "path=" + FluvioProfiles.defaultPath() + " names=" + String.join(",", profiles.names())
                        + " current=" + profiles.currentName();
            } catch (FluvioException e) {
                return "error=" + e.code();
            }
        }
        try (Fluvio fluvio = "current".equals(arg) ? Fluvio.connect() : Fluvio.connectWithProfile(arg)) {
            List<String> names = new ArrayList<>();
            for (TopicMetadata topic : fluvio.admin().listTopics()) {
                names.add(topic.name());
            }
            return "topics=" + String.join(",", names);
        } catch (FluvioException e) {
            return "error=" + e.code() + (e.tlsFailure() == null ? "" : " " + e.tlsFailure());
        }
    }
}
