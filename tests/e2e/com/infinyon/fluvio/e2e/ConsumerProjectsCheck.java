package com.infinyon.fluvio.e2e;

import static com.infinyon.fluvio.e2e.Suite.require;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The consumer projects of examples/ built as users build them, against the artifacts the
 * build published to the local Maven repository: {@code examples/maven-consumer} with
 * {@code mvn -B verify} (on the newest JDK given, so JDK 24+ native access is exercised; it
 * also uses fluvio-micrometer, resolved with micrometer-core through its POM) and
 * {@code examples/gradle-consumer} with {@code gradle check}. Each project's JUnit 5 tests use
 * the fluvio-junit5 extension. Projects are copied to a temporary directory first, so the
 * source tree gets no build output.
 *
 * <p>{@code -Dmaven.repo.local} given to Gradle is passed on to both builds, so a throwaway
 * repository works. After the first run has resolved the plugins and libraries, the Maven build
 * needs no network ({@code mvn -o}).
 *
 * <p>Inputs (system properties, set by {@code gradle consumerProjectsCheck}):
 * {@code fluvio.root}, {@code fluvio.jdks}, optionally {@code maven.repo.local}.
 */
public final class ConsumerProjectsCheck {
    private ConsumerProjectsCheck() {}

    public static void main(String[] args) throws Exception {
        Suite suite = new Suite("consumer projects");
        Path root = Paths.get(System.getProperty("fluvio.root"));
        Path work = Files.createTempDirectory("fluvio-consumer-projects-");
        List<String> repoOption = new ArrayList<>();
        String repo = System.getProperty("maven.repo.local");
        if (repo != null && !repo.isEmpty()) {
            repoOption.add("-Dmaven.repo.local=" + repo);
        }
        String newestJdk = newestJdk();
        try {
            suite.check("examples/maven-consumer: mvn -B verify (JDK at " + newestJdk + ")", () -> {
                Path project = copy(root.resolve("examples/maven-consumer"), work.resolve("maven"));
                List<String> command = new ArrayList<>(List.of("mvn", "-B", "verify"));
                command.addAll(repoOption);
                Processes.Result result = Processes.run(project, Map.of("JAVA_HOME", newestJdk), 900, command)
                        .requireSuccess("mvn -B verify");
                require(result.output.contains("Tests run: 3, Failures: 0, Errors: 0, Skipped: 0"),
                        "the project's 3 tests ran:\n" + Processes.tail(result.output));
            });
            suite.check("examples/gradle-consumer: gradle check", () -> {
                Path project = copy(root.resolve("examples/gradle-consumer"), work.resolve("gradle"));
                List<String> command = new ArrayList<>(List.of("gradle", "--no-daemon", "check"));
                command.addAll(repoOption);
                // Fails when a test fails or none ran (--fail-if-no-tests on Gradle 4.4.1).
                Processes.run(project, Map.of(), 900, command).requireSuccess("gradle check");
            });
        } finally {
            DocsCheck.deleteTree(work);
        }
        suite.finish();
    }

    /** The last JDK of {@code fluvio.jdks} that exists (the build lists the newest last). */
    private static String newestJdk() {
        String newest = System.getProperty("java.home");
        for (String home : System.getProperty("fluvio.jdks").split(File.pathSeparator)) {
            if (Files.isExecutable(Paths.get(home, "bin", "java"))) {
                newest = home;
            }
        }
        return newest;
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path relative = from.relativize(file);
                String top = relative.getNameCount() > 1 ? relative.getName(0).toString() : "";
                if (top.equals("build") || top.equals("target") || top.equals(".gradle")) {
                    continue; // build output of an earlier run in place
                }
                Path target = to.resolve(relative.toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        return to;
    }
}
