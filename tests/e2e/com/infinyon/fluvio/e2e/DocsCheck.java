package com.infinyon.fluvio.e2e;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Docs that compile: every {@code java} and {@code kotlin} fenced block of README.md and every
 * source file under examples/ (but the consumer projects, which their own builds check) is
 * compiled against the built jars with each JDK given (JDK 17 and JDK 25 here), without
 * {@code --release}, warnings as errors; whole programs are run, README test classes are run
 * through the JUnit Platform.
 *
 * <h2>How README blocks are read</h2>
 * <ul>
 *   <li>A block with a top-level type ({@code class}, {@code interface}, {@code enum},
 *       {@code record}) or with {@code import} lines is a <b>compilation unit</b>, compiled as
 *       written. Kotlin: a block with {@code import} lines or top-level {@code fun}/{@code class}
 *       declarations.</li>
 *   <li>Any other block is a <b>fragment</b>: its statements are wrapped in a method
 *       ({@code static void snippet(...) throws Exception} in Java, {@code fun snippet(...)} in
 *       Kotlin). Import lines at its top are kept as its imports.</li>
 *   <li>A block without import lines gets default imports: each public class of
 *       {@code com.infinyon.fluvio} and of {@code com.infinyon.fluvio.junit5} by name (never
 *       {@code .*} in Java: {@code Record} would clash with {@code java.lang.Record}), the JUnit
 *       Jupiter API, and {@code java.nio.file.Path/Paths}, {@code java.time.Duration},
 *       {@code java.util.List}.</li>
 *   <li>Variables a fragment uses without declaring them are given in an HTML comment on the
 *       line before the block, which GitHub does not show:
 *       {@code <!-- check: given Fluvio fluvio, LocalCluster cluster -->} (Kotlin:
 *       {@code given fluvio: Fluvio}). {@code <!-- check: no-run -->} compiles a whole program
 *       without running it (e.g. one that needs a real cluster).</li>
 *   <li>A unit with {@code main} is run (Kotlin: {@code fun main}); a unit with {@code @Test}
 *       methods is run through the JUnit Platform. Runs use {@code -Xcheck:jni} and
 *       {@code --enable-native-access=ALL-UNNAMED}, and fail on a JNI or native-access
 *       warning.</li>
 * </ul>
 *
 * <p>Inputs (system properties, set by {@code gradle docsCheck}): {@code fluvio.root},
 * {@code fluvio.classpath} (the library, fluvio-junit5 and fluvio-kotlin jars, JUnit, kotlinx-coroutines),
 * {@code fluvio.runtests} (RunTests.java), {@code fluvio.kotlinc.classpath},
 * {@code fluvio.kotlin.stdlib}, {@code fluvio.jdks} (JDK homes).
 */
public final class DocsCheck {
    private static final Pattern FENCE = Pattern.compile("^```(java|kotlin)\\s*$");
    private static final Pattern DIRECTIVE = Pattern.compile("^<!--\\s*check:\\s*(.*?)\\s*-->\\s*$");
    private static final Pattern JAVA_TYPE = Pattern.compile(
            "(?m)^(?:@\\w+(?:\\([^)]*\\))?\\s+)*(?:public\\s+|final\\s+|abstract\\s+)*(?:class|interface|enum|record)\\s+(\\w+)");
    private static final Pattern KOTLIN_TOP_LEVEL = Pattern.compile("(?m)^(?:import |fun |class |object |@)");
    private static final List<String> JDK_IMPORTS = List.of("java.nio.file.Path", "java.nio.file.Paths",
            "java.time.Duration", "java.util.List");

    /** A README block or an examples file, and what is made of it. */
    static final class Source {
        final String name;
        final String language;
        final String code;
        final String given;
        final boolean noRun;
        /** The generated file, its main class (or null), and whether it is a JUnit test class. */
        Path file;
        String mainClass;
        boolean testClass;

        Source(String name, String language, String code, String directive) {
            this.name = name;
            this.language = language;
            this.code = code;
            this.given = directive.startsWith("given ") ? directive.substring("given ".length()) : "";
            this.noRun = directive.startsWith("no-run");
        }
    }

    private final Path root = Paths.get(System.getProperty("fluvio.root", "."));
    private final String classpath = property("fluvio.classpath");
    private final Path runTests = Paths.get(property("fluvio.runtests"));
    private final String kotlinc = property("fluvio.kotlinc.classpath");
    private final String kotlinStdlib = property("fluvio.kotlin.stdlib");
    private final Path work;

    private DocsCheck() throws IOException {
        work = Files.createTempDirectory("fluvio-docs-check-");
    }

    public static void main(String[] args) throws Exception {
        Suite suite = new Suite("docs");
        DocsCheck check = new DocsCheck();
        try {
            check.run(suite);
        } finally {
            deleteTree(check.work);
        }
        suite.finish();
    }

    private void run(Suite suite) throws IOException {
        List<Source> sources = new ArrayList<>(readme(root.resolve("README.md")));
        sources.addAll(examples(root.resolve("examples")));
        List<String> defaultJavaImports = defaultJavaImports();
        for (Source source : sources) {
            generate(source, defaultJavaImports);
        }
        suite.check("README.md and examples/ hold Java and Kotlin code", () -> {
            Suite.require(sources.stream().anyMatch(s -> s.language.equals("java")), "no Java block found");
            Suite.require(sources.stream().anyMatch(s -> s.language.equals("kotlin")), "no Kotlin block found");
        });
        List<Path> jdks = jdks(suite);
        for (Path jdk : jdks) {
            String version = jdkVersion(jdk);
            Path out = work.resolve("out-" + version);
            Files.createDirectories(out);
            List<Source> java = sources.stream().filter(s -> s.language.equals("java")).collect(Collectors.toList());
            List<Source> kotlin = sources.stream().filter(s -> s.language.equals("kotlin")).collect(Collectors.toList());
            Map<Source, String> failed = new LinkedHashMap<>();
            failed.putAll(compile(java, jdk, out, true));
            failed.putAll(compile(kotlin, jdk, out, false));
            for (Source source : sources) {
                suite.check(source.name + " compiles (JDK " + version + ")", () -> {
                    String errors = failed.get(source);
                    Suite.require(errors == null, errors);
                });
            }
            for (Source source : sources) {
                if (failed.containsKey(source) || source.noRun || (source.mainClass == null && !source.testClass)) {
                    continue;
                }
                suite.check(source.name + " runs (JDK " + version + ")", () -> runProgram(source, jdk, out));
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Reading

    private static List<Source> readme(Path readme) throws IOException {
        List<String> lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
        List<Source> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher fence = FENCE.matcher(lines.get(i));
            if (!fence.matches()) {
                continue;
            }
            String directive = "";
            int before = i - 1;
            while (before >= 0 && lines.get(before).isBlank()) {
                before--;
            }
            if (before >= 0) {
                Matcher comment = DIRECTIVE.matcher(lines.get(before));
                if (comment.matches()) {
                    directive = comment.group(1);
                }
            }
            int start = i + 1;
            int end = start;
            while (end < lines.size() && !lines.get(end).startsWith("```")) {
                end++;
            }
            String code = String.join("\n", lines.subList(start, end)) + "\n";
            blocks.add(new Source("README.md:" + start + " (" + fence.group(1) + ")", fence.group(1), code, directive));
            i = end;
        }
        return blocks;
    }

    /** Source files under examples/, but those of projects with a build of their own. */
    private static List<Source> examples(Path dir) throws IOException {
        List<Source> sources = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.sorted().collect(Collectors.toList())) {
                String name = file.getFileName().toString();
                if (!(name.endsWith(".java") || name.endsWith(".kt")) || inBuildProject(dir, file)) {
                    continue;
                }
                String code = Files.readString(file);
                Source source = new Source("examples/" + dir.relativize(file), name.endsWith(".kt") ? "kotlin" : "java",
                        code, "");
                sources.add(source);
            }
        }
        return sources;
    }

    private static boolean inBuildProject(Path examples, Path file) {
        for (Path dir = file.getParent(); dir != null && dir.startsWith(examples) && !dir.equals(examples);
                dir = dir.getParent()) {
            if (Files.exists(dir.resolve("pom.xml")) || Files.exists(dir.resolve("build.gradle"))
                    || Files.exists(dir.resolve("settings.gradle"))) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------
    // Generating compilable files

    private void generate(Source source, List<String> defaultJavaImports) throws IOException {
        String id = source.name.replaceAll("[^A-Za-z0-9]+", "_").replaceAll("_+$", "").toLowerCase();
        Path dir = work.resolve("src").resolve(id);
        Files.createDirectories(dir);
        if (source.name.startsWith("examples/")) {
            // Examples are compiled as they are, in their own (default) package.
            source.file = dir.resolve(Paths.get(source.name).getFileName());
            Files.writeString(source.file, source.code);
            if (source.language.equals("java")) {
                Matcher type = JAVA_TYPE.matcher(source.code);
                source.mainClass = type.find() && source.code.contains("static void main(") ? type.group(1) : null;
            } else {
                source.mainClass = source.code.contains("fun main(") ? kotlinFileClass(source.file) : null;
            }
            return;
        }
        String pkg = "snippets." + id;
        List<String> lines = new ArrayList<>(List.of(source.code.split("\n")));
        List<String> imports = new ArrayList<>();
        while (!lines.isEmpty() && (lines.get(0).startsWith("import ") || lines.get(0).isBlank())) {
            if (!lines.get(0).isBlank()) {
                imports.add(lines.get(0));
            }
            lines.remove(0);
        }
        String body = String.join("\n", lines);
        StringBuilder text = new StringBuilder();
        if (source.language.equals("java")) {
            text.append("package ").append(pkg).append(";\n\n");
            if (imports.isEmpty()) {
                defaultJavaImports.forEach(name -> text.append("import ").append(name).append(";\n"));
            } else {
                imports.forEach(line -> text.append(line).append('\n'));
            }
            Matcher type = JAVA_TYPE.matcher(body);
            if (type.find()) {
                text.append(body).append('\n');
                source.file = dir.resolve(type.group(1) + ".java");
                source.testClass = body.contains("@Test");
                source.mainClass = body.contains("static void main(") || source.testClass ? pkg + "." + type.group(1) : null;
            } else {
                text.append("\nfinal class Snippet {\n    static void snippet(").append(source.given)
                        .append(") throws Exception {\n").append(body).append("\n    }\n}\n");
                source.file = dir.resolve("Snippet.java");
            }
        } else {
            text.append("package ").append(pkg).append("\n\n");
            if (imports.isEmpty()) {
                text.append("import com.infinyon.fluvio.*\nimport com.infinyon.fluvio.junit5.*\n")
                        .append("import java.time.Duration\n");
            } else {
                imports.forEach(line -> text.append(line).append('\n'));
            }
            source.file = dir.resolve("Readme" + id.replaceAll("[^0-9]", "") + ".kt");
            if (!imports.isEmpty() || KOTLIN_TOP_LEVEL.matcher(body).find()) {
                text.append(body).append('\n');
                source.mainClass = body.contains("fun main(") ? pkg + "." + kotlinFileClass(source.file) : null;
            } else {
                text.append("\nfun snippet(").append(source.given).append(") {\n").append(body).append("\n}\n");
            }
        }
        Files.writeString(source.file, text.toString());
    }

    private static String kotlinFileClass(Path file) {
        String name = file.getFileName().toString().replace(".kt", "");
        return Character.toUpperCase(name.charAt(0)) + name.substring(1) + "Kt";
    }

    /** Each public class of the packages users import, by name, and a few JDK and JUnit ones. */
    private List<String> defaultJavaImports() throws IOException {
        TreeSet<String> names = new TreeSet<>(JDK_IMPORTS);
        List<URL> jars = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            jars.add(Paths.get(entry).toUri().toURL());
        }
        try (URLClassLoader loader = new URLClassLoader(jars.toArray(new URL[0]), null)) {
            for (String entry : classpath.split(File.pathSeparator)) {
                if (!Paths.get(entry).getFileName().toString().startsWith("fluvio")) {
                    continue;
                }
                try (JarFile jar = new JarFile(entry)) {
                    for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements();) {
                        String name = entries.nextElement().getName();
                        if (name.matches("com/infinyon/fluvio/(junit5/)?[A-Z]\\w*\\.class")) {
                            String className = name.replace(".class", "").replace('/', '.');
                            if (Modifier.isPublic(Class.forName(className, false, loader).getModifiers())) {
                                names.add(className);
                            }
                        }
                    }
                }
            }
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        names.removeIf(name -> name.endsWith("Extension")); // used through its annotation
        names.addAll(List.of("org.junit.jupiter.api.Test", "org.junit.jupiter.api.BeforeEach",
                "org.junit.jupiter.api.BeforeAll", "org.junit.jupiter.api.AfterAll",
                "org.junit.jupiter.api.TestInstance"));
        List<String> imports = new ArrayList<>(names);
        imports.add("static org.junit.jupiter.api.Assertions.*");
        return imports;
    }

    // ------------------------------------------------------------------------------------------
    // Compiling and running

    /** Compiles the sources together; on failure, one by one, to tell which fail. */
    private Map<Source, String> compile(List<Source> sources, Path jdk, Path out, boolean java) throws IOException {
        Map<Source, String> failed = new LinkedHashMap<>();
        if (sources.isEmpty()) {
            return failed;
        }
        Processes.Result all = compileFiles(sources, jdk, out, java);
        if (all.status == 0) {
            return failed;
        }
        for (Source source : sources) {
            Processes.Result one = compileFiles(List.of(source), jdk, out, java);
            if (one.status != 0) {
                failed.put(source, "generated " + source.file + ":\n" + Processes.tail(one.output));
            }
        }
        if (failed.isEmpty()) {
            sources.forEach(source -> failed.put(source, "failed together, not alone:\n" + Processes.tail(all.output)));
        }
        return failed;
    }

    private Processes.Result compileFiles(List<Source> sources, Path jdk, Path out, boolean java) {
        List<String> command = new ArrayList<>();
        if (java) {
            command.addAll(List.of(jdk.resolve("bin/javac").toString(), "-Xlint:all", "-Werror", "-encoding", "UTF-8",
                    "-d", out.toString(), "-cp", classpath, runTests.toString()));
        } else {
            command.addAll(List.of(jdk.resolve("bin/java").toString(), "-Xmx1g", "-cp", kotlinc,
                    "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler", "-no-stdlib", "-no-reflect", "-Werror",
                    "-jdk-home", jdk.toString(), "-d", out.toString(),
                    "-classpath", classpath + File.pathSeparator + kotlinStdlib));
        }
        sources.forEach(source -> command.add(source.file.toString()));
        return Processes.run(work, Map.of(), 600, command);
    }

    private void runProgram(Source source, Path jdk, Path out) {
        List<String> command = new ArrayList<>(List.of(jdk.resolve("bin/java").toString(), "-Xcheck:jni", "-Xmx512m",
                "--enable-native-access=ALL-UNNAMED", "-cp",
                String.join(File.pathSeparator, out.toString(), classpath, kotlinStdlib)));
        if (source.testClass) {
            command.add("com.infinyon.fluvio.RunTests");
        }
        command.add(source.mainClass);
        Processes.Result result = Processes.run(work, Map.of(), 300, command).requireSuccess(source.name);
        Suite.require(!result.output.contains("WARNING in native method"), "-Xcheck:jni warned:\n" + result.output);
        Suite.require(!result.output.contains("restricted method"), "native access warning:\n" + result.output);
    }

    // ------------------------------------------------------------------------------------------

    private static List<Path> jdks(Suite suite) {
        List<Path> jdks = new ArrayList<>();
        for (String home : property("fluvio.jdks").split(File.pathSeparator)) {
            Path jdk = Paths.get(home);
            if (Files.isExecutable(jdk.resolve("bin/javac"))) {
                jdks.add(jdk);
            } else if (System.getenv("CI") != null) {
                suite.check("JDK at " + home, () -> Suite.require(false, "no javac in " + home));
            } else {
                System.out.println("note: no JDK at " + home + "; checking with the others only");
            }
        }
        return jdks;
    }

    private String jdkVersion(Path jdk) {
        String output = Processes.run(work, Map.of(), 60,
                List.of(jdk.resolve("bin/java").toString(), "-XshowSettings:properties", "-version")).output;
        Matcher version = Pattern.compile("java\\.specification\\.version = (\\S+)").matcher(output);
        return version.find() ? version.group(1) : jdk.getFileName().toString();
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException("system property " + name + " is not set (run through gradle docsCheck)");
        }
        return value;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(path);
            }
        }
    }
}
