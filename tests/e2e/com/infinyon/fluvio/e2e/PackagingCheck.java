package com.infinyon.fluvio.e2e;

import static com.infinyon.fluvio.e2e.Suite.require;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What the published artifacts carry, and how the library loads on each JDK:
 * <ul>
 *   <li>every jar (library, fluvio-junit5, fluvio-kotlin, their sources and javadoc) has the repository's
 *       {@code LICENSE} and {@code NOTICE} under {@code META-INF/};</li>
 *   <li>manifests name the modules ({@code Automatic-Module-Name});</li>
 *   <li>the library jar carries the native library for this platform and no dependency's
 *       classes; its POM has licenses, SCM and developers, and no required dependency (JSpecify
 *       is optional); fluvio-junit5's POM needs the library and the JUnit Jupiter API;
 *       fluvio-kotlin's jar holds its own classes only and its POM needs the library,
 *       kotlinx-coroutines-core and the Kotlin standard library;</li>
 *   <li>on each JDK, a program starts an embedded cluster from the class path and from the
 *       module path; on JDK 24 and later, loading the native library without native access
 *       enabled prints the JDK's warning naming our loader, and each documented remedy
 *       ({@code --enable-native-access=ALL-UNNAMED}, {@code =com.infinyon.fluvio} on the module
 *       path, {@code Enable-Native-Access: ALL-UNNAMED} in an executable jar's manifest)
 *       silences it.</li>
 * </ul>
 *
 * <p>Inputs (system properties, set by {@code gradle packagingCheck}): {@code fluvio.root},
 * {@code fluvio.jars} (every jar), {@code fluvio.libraryJar}, {@code fluvio.junit5Jar},
 * {@code fluvio.kotlinJar}, {@code fluvio.libraryPom}, {@code fluvio.junit5Pom},
 * {@code fluvio.kotlinPom}, {@code fluvio.jdks}.
 */
public final class PackagingCheck {
    private static final String PROGRAM = String.join("\n",
            "import com.infinyon.fluvio.Fluvio;",
            "import com.infinyon.fluvio.LocalCluster;",
            "public class LoadsNative {",
            "    public static void main(String[] args) {",
            "        try (LocalCluster cluster = LocalCluster.start(); Fluvio fluvio = cluster.connect()) {",
            "            fluvio.admin().createTopic(\"t\", 1, 1);",
            "            System.out.println(\"topics: \" + fluvio.admin().listTopics().size());",
            "        }",
            "    }",
            "}", "");

    private PackagingCheck() {}

    public static void main(String[] args) throws Exception {
        Suite suite = new Suite("packaging");
        Path root = Paths.get(System.getProperty("fluvio.root"));
        Path libraryJar = Paths.get(System.getProperty("fluvio.libraryJar"));
        Path junit5Jar = Paths.get(System.getProperty("fluvio.junit5Jar"));
        Path kotlinJar = Paths.get(System.getProperty("fluvio.kotlinJar"));

        for (String jar : System.getProperty("fluvio.jars").split(File.pathSeparator)) {
            suite.check(Paths.get(jar).getFileName() + " has META-INF/LICENSE and NOTICE", () -> {
                for (String file : List.of("LICENSE", "NOTICE")) {
                    require(Arrays.equals(Files.readAllBytes(root.resolve(file)), entry(Paths.get(jar), "META-INF/" + file)),
                            "META-INF/" + file + " is the repository's " + file);
                }
            });
        }
        suite.check("module names in the manifests", () -> {
            require("com.infinyon.fluvio".equals(mainAttribute(libraryJar, "Automatic-Module-Name")), "library");
            require("com.infinyon.fluvio.junit5".equals(mainAttribute(junit5Jar, "Automatic-Module-Name")), "junit5");
            require("com.infinyon.fluvio.kotlin".equals(mainAttribute(kotlinJar, "Automatic-Module-Name")), "kotlin");
            require("Fluvio Java client".equals(mainAttribute(libraryJar, "Implementation-Title")), "title");
        });
        suite.check("the library jar holds the native library and no dependency", () -> {
            String platform = platform();
            String library = "native/" + platform + "/" + System.mapLibraryName("fluvio_jni");
            require(entry(libraryJar, library) != null, "no " + library);
            try (JarFile jar = new JarFile(libraryJar.toFile())) {
                List<String> foreign = jar.stream().map(JarEntry::getName)
                        .filter(name -> name.endsWith(".class") && !name.startsWith("com/infinyon/fluvio/"))
                        .collect(Collectors.toList());
                require(foreign.isEmpty(), "classes of other packages: " + foreign);
            }
        });
        Document libraryPom = xml(Paths.get(System.getProperty("fluvio.libraryPom")));
        Document junit5Pom = xml(Paths.get(System.getProperty("fluvio.junit5Pom")));
        Document kotlinPom = xml(Paths.get(System.getProperty("fluvio.kotlinPom")));
        for (Map.Entry<String, Document> pom : Map.of("fluvio", libraryPom, "fluvio-junit5", junit5Pom,
                "fluvio-kotlin", kotlinPom).entrySet()) {
            suite.check(pom.getKey() + " POM: licenses, SCM, developers", () -> {
                Document doc = pom.getValue();
                require(text(doc, "license", "name").contains("Apache License, Version 2.0"), "Apache-2.0 license");
                require(text(doc, "scm", "url").startsWith("https://"), "SCM url");
                require(!text(doc, "scm", "connection").isEmpty(), "SCM connection");
                require(!text(doc, "developer", "name").isEmpty(), "a developer");
                require(!text(doc, "project", "description").isEmpty(), "a description");
                require(text(doc, "project", "name").startsWith("Fluvio"), "a name: " + text(doc, "project", "name"));
            });
        }
        suite.check("fluvio POM: no required dependency, JSpecify optional", () -> {
            List<String> required = dependencies(libraryPom, false);
            require(required.isEmpty(), "required: " + required);
            require(dependencies(libraryPom, true).contains("org.jspecify:jspecify"), "JSpecify optional");
        });
        suite.check("fluvio-junit5 POM: the library and the JUnit Jupiter API", () -> {
            List<String> required = dependencies(junit5Pom, false);
            require(required.equals(List.of("com.infinyon:fluvio", "org.junit.jupiter:junit-jupiter-api")),
                    "required: " + required);
            require(dependencies(junit5Pom, true).contains("org.jspecify:jspecify"), "JSpecify optional");
        });
        suite.check("fluvio-kotlin: Kotlin classes only; POM: the library, kotlinx-coroutines-core, kotlin-stdlib", () -> {
            List<String> required = dependencies(kotlinPom, false);
            require(required.equals(List.of("com.infinyon:fluvio", "org.jetbrains.kotlinx:kotlinx-coroutines-core",
                    "org.jetbrains.kotlin:kotlin-stdlib")), "required: " + required);
            require(entry(kotlinJar, "com/infinyon/fluvio/kotlin/FluvioFlows.class") != null, "no FluvioFlows");
            try (JarFile jar = new JarFile(kotlinJar.toFile())) {
                List<String> foreign = jar.stream().map(JarEntry::getName)
                        .filter(name -> name.endsWith(".class") && !name.startsWith("com/infinyon/fluvio/kotlin/"))
                        .collect(Collectors.toList());
                require(foreign.isEmpty(), "classes of other packages: " + foreign);
            }
        });

        Path work = Files.createTempDirectory("fluvio-packaging-check-");
        try {
            nativeAccess(suite, work, libraryJar);
        } finally {
            DocsCheck.deleteTree(work);
        }
        suite.finish();
    }

    /** The program on each JDK, from the class path and the module path, with and without native access. */
    private static void nativeAccess(Suite suite, Path work, Path libraryJar) throws IOException {
        Path source = work.resolve("LoadsNative.java");
        Files.writeString(source, PROGRAM);
        Path classes = work.resolve("classes");
        String classpath = libraryJar + File.pathSeparator + classes;
        String javaHome = System.getProperty("java.home");
        suite.check("a program using the library compiles", () -> Processes.run(work, Map.of(), 120,
                List.of(Paths.get(javaHome, "bin", "javac").toString(), "-d", classes.toString(), "-cp",
                        libraryJar.toString(), source.toString())).requireSuccess("javac"));
        // An executable jar naming the library in its Class-Path, as applications ship.
        Path app = work.resolve("app");
        Files.createDirectories(app);
        Files.copy(libraryJar, app.resolve("fluvio.jar"));
        executableJar(app.resolve("app.jar"), classes.resolve("LoadsNative.class"));

        for (String home : System.getProperty("fluvio.jdks").split(File.pathSeparator)) {
            Path jdk = Paths.get(home);
            if (!Files.isExecutable(jdk.resolve("bin/java"))) {
                continue;
            }
            String java = jdk.resolve("bin/java").toString();
            int version = feature(work, java);
            boolean warns = version >= 24;
            String on = " (JDK " + version + ")";
            suite.check("class path, --enable-native-access=ALL-UNNAMED" + on, () -> quiet(Processes.run(work, Map.of(), 120,
                    List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", classpath, "LoadsNative"))));
            suite.check("module path, --enable-native-access=com.infinyon.fluvio" + on, () -> quiet(Processes.run(work,
                    Map.of(), 120, List.of(java, "--enable-native-access=com.infinyon.fluvio", "-p", libraryJar.toString(),
                            "--add-modules", "com.infinyon.fluvio", "-cp", classes.toString(), "LoadsNative"))));
            suite.check("executable jar with Enable-Native-Access: ALL-UNNAMED" + on,
                    () -> quiet(Processes.run(app, Map.of(), 120, List.of(java, "-jar", "app.jar"))));
            suite.check("class path without the flag" + on + (warns ? ": the JDK's warning names our loader" : ": no warning"),
                    () -> {
                        Processes.Result result = Processes.run(work, Map.of(), 120, List.of(java, "-cp", classpath, "LoadsNative"))
                                .requireSuccess("java");
                        if (warns) {
                            require(result.output.contains("restricted method")
                                    && result.output.contains("com.infinyon.fluvio.NativeLibrary"), result.output);
                        } else {
                            require(!result.output.contains("WARNING"), result.output);
                        }
                    });
        }
    }

    /**
     * The program ran and printed no warning, nor any line at INFO (java.util.logging's default
     * level): a run without trouble logs nothing a user sees by default.
     */
    private static void quiet(Processes.Result result) {
        result.requireSuccess("java");
        require(result.output.contains("topics: 1"), "the program ran:\n" + result.output);
        require(!result.output.contains("WARNING"), "a warning:\n" + result.output);
        require(!result.output.contains("INFO:"), "a line at INFO:\n" + result.output);
    }

    private static void executableJar(Path jar, Path mainClass) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "LoadsNative");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, "fluvio.jar");
        manifest.getMainAttributes().putValue("Enable-Native-Access", "ALL-UNNAMED");
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
            out.putNextEntry(new JarEntry("LoadsNative.class"));
            out.write(Files.readAllBytes(mainClass));
            out.closeEntry();
        }
    }

    private static int feature(Path work, String java) {
        String output = Processes.run(work, Map.of(), 60, List.of(java, "-XshowSettings:properties", "-version")).output;
        Matcher version = Pattern.compile("java\\.specification\\.version = (\\d+)").matcher(output);
        require(version.find(), "no version from " + java);
        return Integer.parseInt(version.group(1));
    }

    private static String platform() {
        String arch = System.getProperty("os.arch");
        String archPart = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch_64" : arch;
        String os = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT);
        String osPart = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("windows") ? "windows" : os;
        return osPart + "-" + archPart;
    }

    private static byte[] entry(Path jar, String name) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            JarEntry entry = file.getJarEntry(name);
            if (entry == null) {
                return null;
            }
            try (InputStream in = file.getInputStream(entry)) {
                return in.readAllBytes();
            }
        }
    }

    private static String mainAttribute(Path jar, String name) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue(name);
        }
    }

    private static Document xml(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile());
    }

    /** The text of the first {@code <child>} of the first {@code <parent>}, or "". */
    private static String text(Document doc, String parent, String child) {
        NodeList parents = doc.getElementsByTagName(parent);
        if (parents.getLength() == 0) {
            return "";
        }
        NodeList children = ((Element) parents.item(0)).getElementsByTagName(child);
        return children.getLength() == 0 ? "" : children.item(0).getTextContent().trim();
    }

    /** group:artifact of the dependencies that are (or are not) optional, test scope left out. */
    private static List<String> dependencies(Document pom, boolean optional) {
        List<String> found = new ArrayList<>();
        NodeList dependencies = pom.getElementsByTagName("dependency");
        for (int i = 0; i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            if (dependency.getParentNode().getParentNode().getNodeName().equals("dependencyManagement")) {
                continue;
            }
            String scope = childText(dependency, "scope");
            if (scope.equals("test")) {
                continue;
            }
            if (Boolean.parseBoolean(childText(dependency, "optional")) == optional) {
                found.add(childText(dependency, "groupId") + ":" + childText(dependency, "artifactId"));
            }
        }
        return found;
    }

    private static String childText(Element element, String name) {
        NodeList children = element.getElementsByTagName(name);
        return children.getLength() == 0 ? "" : children.item(0).getTextContent().trim();
    }
}
