package com.infinyon.fluvio;

/**
 * Run in a child JVM by {@link NativeLibraryTest}: loads the native library (from the jar's
 * resources when {@code java.library.path} does not have it), makes one native call, prints
 * {@code loaded} and exits.
 */
public final class LoadLibraryMain {
    private LoadLibraryMain() {}

    public static void main(String[] args) {
        NativeLibrary.load();
        if (!FluvioException.nativeCodes().isEmpty()) {
            System.out.println("loaded");
        }
    }
}
