package com.infinyon.fluvio

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance

/**
 * The JSpecify annotations of the Java API as the Kotlin compiler sees them: snippets are
 * compiled by the same kotlinc (from Maven Central) against the jar alone, without the
 * optional `org.jspecify:jspecify` jar, as a user's build has it. Unsafe uses of nullable
 * results (`record.key().size`) are compile errors; the null-safe forms compile; and a
 * needless `?.` on a non-null result is flagged, which shows the rest of the API is non-null
 * rather than of platform type. Errors are matched by file and line, not by message text.
 *
 * The build passes the compiler's class path, the Kotlin standard library, the jar and the
 * jspecify jar as the system properties `fluvio.kotlinc.classpath`, `fluvio.kotlin.stdlib`,
 * `fluvio.jar` and `fluvio.jspecify`.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NullabilityTest {
    private lateinit var dir: File

    @BeforeAll
    fun makeDir() {
        dir = Files.createTempDirectory("fluvio-kotlin-nullability-").toFile()
    }

    @AfterAll
    fun deleteDir() {
        dir.deleteRecursively()
    }

    /** Each snippet's line 3 holds the use under test, after the imports. */
    private val unsafe = mapOf(
        "key_size" to "fun f(record: Record): Int = record.key().size",
        "key_string_length" to "fun f(record: Record): Int = record.keyString().length",
        "next_with_timeout" to "fun f(stream: ConsumerStream): String = stream.next(java.time.Duration.ZERO).valueString()",
        "current_profile_name" to "fun f(profiles: FluvioProfiles): Int = profiles.currentName().length",
        "tls_failure" to "fun f(e: FluvioException): String = e.tlsFailure().name",
        "spu_endpoint" to "fun f(cluster: LocalCluster): Int = cluster.spuEndpoint(5001).length",
        "partitioner_key" to "val p = Partitioner { _, key, _, n -> key.size % n }",
    )

    /** Needless safe calls on non-null results: warnings, errors under -Werror. */
    private val needless = mapOf(
        "value_is_not_nullable" to "fun f(record: Record): Int? = record.value()?.size",
        "topic_is_not_nullable" to "fun f(producer: TopicProducer): Int? = producer.topic()?.length",
    )

    private val safe = """
        import com.infinyon.fluvio.*
        import java.time.Duration

        fun keyLength(record: Record): Int = record.key()?.size ?: -1
        fun valueLength(record: Record): Int = record.value().size
        fun text(stream: ConsumerStream): String = stream.next(Duration.ZERO)?.valueString() ?: "nothing"
        fun send(producer: TopicProducer) = producer.send(null, "no key")
        fun firstKey(stream: ConsumerStream): ByteArray? { val key = stream.next().key(); return key }
        val explicitTypes = Partitioner { _, key: ByteArray?, _, n: Int -> (key?.size ?: 0) % n }
    """.trimIndent()

    /**
     * Kotlin refuses to infer a type carrying an annotation whose class it cannot load (a
     * lambda's parameter, a declaration's inferred type): that needs the jspecify jar on the
     * compile class path (`compileOnly`), as the README says.
     */
    private val inferred = """
        import com.infinyon.fluvio.*

        val byKeyLength = Partitioner { _, key, _, n -> (key?.size ?: 0) % n }
        fun keyOf(record: Record) = record.key()
    """.trimIndent()

    private fun kotlinc(vararg sources: File, withJspecify: Boolean = false): Pair<Int, String> {
        val jars = listOf("fluvio.jar", "fluvio.kotlin.stdlib") + if (withJspecify) listOf("fluvio.jspecify") else listOf()
        val classpath = jars.joinToString(File.pathSeparator) {
            requireNotNull(System.getProperty(it)) { "system property $it (set by the build)" }
        }
        val command = listOf(
            File(System.getProperty("java.home"), "bin/java").path,
            "-cp", requireNotNull(System.getProperty("fluvio.kotlinc.classpath")) { "fluvio.kotlinc.classpath" },
            "org.jetbrains.kotlin.cli.jvm.K2JVMCompiler",
            "-no-stdlib", "-no-reflect", "-Werror", "-classpath", classpath, "-d", File(dir, "out").path,
        ) + sources.map { it.path }
        val process = ProcessBuilder(command).redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "kotlinc finished")
        return process.exitValue() to output
    }

    @Test
    fun `null-safe uses compile`() {
        val file = File(dir, "safe.kt").apply { writeText(safe) }
        val (status, output) = kotlinc(file)
        assertEquals(0, status, output)
    }

    @Test
    fun `inferred annotated types need the annotations at compile time`() {
        val file = File(dir, "inferred.kt").apply { writeText(inferred) }
        val (without, output) = kotlinc(file)
        assertTrue(without != 0, output)
        for (line in listOf(3, 4)) {
            assertTrue(Regex("""inferred\.kt:$line:\d+: error:""").containsMatchIn(output), "line $line:\n$output")
        }
        val (with, withOutput) = kotlinc(file, withJspecify = true)
        assertEquals(0, with, withOutput)
    }

    @Test
    fun `unsafe uses of nullable results are compile errors`() {
        assertFlagged(unsafe, "error")
    }

    @Test
    fun `the rest of the API is non-null, not platform types`() {
        assertFlagged(needless, "warning")
    }

    private fun assertFlagged(snippets: Map<String, String>, severity: String) {
        val files = snippets.map { (name, code) ->
            File(dir, "$name.kt").apply { writeText("import com.infinyon.fluvio.*\n\n$code\n") }
        }
        val (status, output) = kotlinc(*files.toTypedArray())
        assertTrue(status != 0, output)
        for (name in snippets.keys) {
            val onLine3 = Regex("""(^|[/\\])$name\.kt:3:\d+: $severity:""", RegexOption.MULTILINE)
            assertTrue(onLine3.containsMatchIn(output), "$name.kt:3 flagged as $severity; kotlinc said:\n$output")
        }
    }
}
