package com.infinyon.fluvio;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The profile file ({@code $FLV_PROFILE_PATH}, else {@code ~/.fluvio/config}): the official
 * Fluvio CLI's TOML file, which {@link Fluvio#connect()} and
 * {@link Fluvio#connectWithProfile(String)} read. Load it, edit it, save it:
 *
 * <pre>{@code
 * FluvioProfiles.loadOrCreate(FluvioProfiles.defaultPath())
 *     .withProfile(FluvioProfile.of("prod", "fluvio.example.com:9003", tls))
 *     .withCurrentProfile("prod")
 *     .save();
 * }</pre>
 *
 * <p>A {@code FluvioProfiles} is a value: the file's path and text. Edits return a new value
 * and touch nothing on disk until {@link #save()}. The file is read and edited in place by the
 * library's Rust profile code, so the result is exactly the official format and keys this
 * library does not know (CLI metadata, comments, other profiles and clusters) are kept. It
 * holds no native memory and needs no closing.
 *
 * <p>Errors: a missing, unreadable or invalid file, and an unknown profile, are
 * {@link FluvioException.Code#PROFILE}.
 *
 * <p>Thread-safety: immutable. Two programs saving the same file at once each write it whole
 * (atomically): the last one wins.
 */
public final class FluvioProfiles {
    private final Path path;
    private final String text;

    private FluvioProfiles(Path path, String text) {
        this.path = path;
        this.text = text;
    }

    /**
     * The default location of the profile file: {@code $FLV_PROFILE_PATH} if set, else
     * {@code ~/.fluvio/config}.
     *
     * @return the path
     * @throws FluvioException {@code PROFILE} when neither the variable nor a home directory is set
     */
    public static Path defaultPath() {
        NativeLibrary.load();
        return Paths.get(nativeDefaultPath());
    }

    /**
     * Loads the default profile file ({@link #defaultPath()}).
     *
     * @return the file's profiles
     * @throws FluvioException {@code PROFILE} when the file is missing, unreadable or invalid
     */
    public static FluvioProfiles load() {
        return load(defaultPath());
    }

    /**
     * Loads the profile file at {@code path}.
     *
     * @param path a file in the Fluvio profile format
     * @return the file's profiles
     * @throws FluvioException {@code PROFILE} when the file is missing, unreadable or invalid
     */
    public static FluvioProfiles load(Path path) {
        return load(path, false);
    }

    /**
     * Loads the profile file at {@code path}, or starts an empty one if it does not exist
     * (created, with its directory, by {@link #save()}).
     *
     * @param path where the profile file is, or is to be
     * @return the file's profiles, or none
     * @throws FluvioException {@code PROFILE} when the file exists but is unreadable or invalid
     */
    public static FluvioProfiles loadOrCreate(Path path) {
        return load(path, true);
    }

    private static FluvioProfiles load(Path path, boolean create) {
        Path absolute = Objects.requireNonNull(path, "path").toAbsolutePath();
        NativeLibrary.load();
        return new FluvioProfiles(absolute, nativeLoad(absolute.toString(), create));
    }

    /** The file's path (absolute). */
    public Path path() {
        return path;
    }

    /**
     * The names of every profile, sorted.
     *
     * @return the names (unmodifiable)
     */
    public List<String> names() {
        return Collections.unmodifiableList(Arrays.asList(nativeNames(path.toString(), text)));
    }

    /**
     * The name of the current profile (the one {@link Fluvio#connect()} uses).
     *
     * @return the name, or null when none is set
     */
    public @Nullable String currentName() {
        return nativeCurrent(path.toString(), text);
    }

    /**
     * The current profile.
     *
     * @return the profile
     * @throws FluvioException {@code PROFILE} when no current profile is set or it does not exist
     */
    public FluvioProfile currentProfile() {
        String current = currentName();
        if (current == null) {
            throw new FluvioException(FluvioException.Code.PROFILE, "profile file " + path + " has no current profile",
                    false);
        }
        return profile(current);
    }

    /**
     * Profile {@code name}: its cluster, endpoint and TLS settings. Certificates of a verified
     * profile come back as the file has them: files ({@code tls_source = "files"}) or PEM text
     * ({@code "inline"}).
     *
     * @param name a profile name
     * @return the profile
     * @throws FluvioException {@code PROFILE} when there is no such profile, its cluster is
     *     missing, or its TLS settings are invalid
     */
    public FluvioProfile profile(String name) {
        FluvioProfile.checkName(name, "name");
        return unpackProfile(name, new Unpacker(nativeProfile(path.toString(), text, name)));
    }

    /**
     * Adds or replaces a profile, and sets its cluster's endpoint and TLS settings. Keys of the
     * profile and cluster tables this library does not know are kept; TLS keys the new
     * settings do not use (such as a client key) are removed. Verified TLS is written with
     * {@code tls_source = "files"} or {@code "inline"}, as the certificates were given.
     *
     * @param profile the profile
     * @return the edited profiles (not saved yet)
     * @throws IllegalArgumentException if the profile's certificates mix files and PEM text
     *     (the format keeps a cluster's certificates one way or the other)
     */
    public FluvioProfiles withProfile(FluvioProfile profile) {
        Objects.requireNonNull(profile, "profile");
        return edited(nativeUpsert(path.toString(), text, profile));
    }

    /** Profile {@code name} packed by native code (layout {@code PROFILE}). */
    static FluvioProfile unpackProfile(String name, Unpacker in) {
        String cluster = in.str();
        String endpoint = in.str();
        return FluvioProfile.read(name, cluster, endpoint, TlsConfig.unpack(in));
    }

    /**
     * Makes {@code name} the current profile.
     *
     * @param name an existing profile
     * @return the edited profiles (not saved yet)
     * @throws FluvioException {@code PROFILE} when there is no such profile
     */
    public FluvioProfiles withCurrentProfile(String name) {
        FluvioProfile.checkName(name, "name");
        return edited(nativeSetCurrent(path.toString(), text, name));
    }

    /**
     * Removes profile {@code name}; if it was the current profile, no profile is current
     * afterwards. Its cluster table stays (other profiles may use it).
     *
     * @param name an existing profile
     * @return the edited profiles (not saved yet)
     * @throws FluvioException {@code PROFILE} when there is no such profile
     */
    public FluvioProfiles withoutProfile(String name) {
        FluvioProfile.checkName(name, "name");
        return edited(nativeRemove(path.toString(), text, name));
    }

    /**
     * Writes the file at {@link #path()} atomically (a temporary file renamed over it), creating
     * its directory.
     *
     * @return this value
     * @throws FluvioException {@code PROFILE} when it cannot be written
     */
    public FluvioProfiles save() {
        nativeSave(path.toString(), text);
        return this;
    }

    /** The file's text, as {@link #save()} writes it. */
    public String toToml() {
        return text;
    }

    private FluvioProfiles edited(String newText) {
        return new FluvioProfiles(path, newText);
    }

    @Override
    public String toString() {
        return "FluvioProfiles[" + path + "]";
    }

    private static native String nativeDefaultPath();

    private static native String nativeLoad(String path, boolean createIfMissing);

    private static native String[] nativeNames(String path, String text);

    private static native String nativeCurrent(String path, String text);

    private static native byte[] nativeProfile(String path, String text, String name);

    private static native String nativeUpsert(String path, String text, FluvioProfile profile);

    private static native String nativeSetCurrent(String path, String text, String name);

    private static native String nativeRemove(String path, String text, String name);

    private static native void nativeSave(String path, String text);
}
