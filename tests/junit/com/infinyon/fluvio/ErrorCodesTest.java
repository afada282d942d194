package com.infinyon.fluvio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The error codes of the two languages agree: every code native code can throw is a
 * {@link FluvioException.Code} and every {@code Code} can be thrown; real failures carry
 * the right code and retriability.
 */
class ErrorCodesTest extends ClusterTestBase {
    @Test
    void nativeCodesAndJavaCodesAreTheSameSet() {
        List<String> nativeCodes = FluvioException.nativeCodes();
        Set<String> nativeSet = new TreeSet<>(nativeCodes);
        assertEquals(nativeCodes.size(), nativeSet.size(), "no code listed twice: " + nativeCodes);
        Set<String> javaSet = Arrays.stream(FluvioException.Code.values()).map(Enum::name)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> unknownToJava = new TreeSet<>(nativeSet);
        unknownToJava.removeAll(javaSet);
        assertTrue(unknownToJava.isEmpty(), "thrown by native code but not a Code: " + unknownToJava);
        Set<String> neverThrown = new TreeSet<>(javaSet);
        neverThrown.removeAll(nativeSet);
        assertTrue(neverThrown.isEmpty(), "Codes native code never throws: " + neverThrown);
        for (String name : nativeCodes) {
            assertEquals(name, FluvioException.Code.valueOf(name).name());
        }
    }

    @Test
    void nativeTlsFailuresAndJavaTlsFailuresAreTheSameSet() {
        List<String> nativeNames = FluvioException.nativeTlsFailures();
        Set<String> nativeSet = new TreeSet<>(nativeNames);
        assertEquals(nativeNames.size(), nativeSet.size(), "no failure listed twice: " + nativeNames);
        Set<String> javaSet = Arrays.stream(FluvioException.TlsFailure.values()).map(Enum::name)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(javaSet, nativeSet);
        assertTrue(FluvioException.nativeCodes().contains("TLS"), "TLS failures have their own code");
    }

    @Test
    void nativeClusterFailuresAndJavaClusterFailuresAreTheSameSet() {
        List<String> nativeNames = FluvioException.nativeClusterFailures();
        Set<String> nativeSet = new TreeSet<>(nativeNames);
        assertEquals(nativeNames.size(), nativeSet.size(), "no failure listed twice: " + nativeNames);
        Set<String> javaSet = Arrays.stream(FluvioException.ClusterFailure.values()).map(Enum::name)
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(javaSet, nativeSet);
        FluvioException known = new FluvioException("LOCAL_CLUSTER", "m", false, null, "DIRECTORY_IN_USE");
        assertEquals(FluvioException.ClusterFailure.DIRECTORY_IN_USE, known.clusterFailure());
        assertNull(known.tlsFailure());
        // An unknown failure name keeps the code.
        FluvioException unknown = new FluvioException("LOCAL_CLUSTER", "m", false, null, "NEW");
        assertEquals(FluvioException.Code.LOCAL_CLUSTER, unknown.code());
        assertEquals(FluvioException.ClusterFailure.INTERNAL, unknown.clusterFailure());
        assertNull(new FluvioException("TOPIC_NOT_FOUND", "m", false).clusterFailure());
    }

    @Test
    void codesFromNativeNamesAndTheirRetriability() {
        FluvioException known = new FluvioException("TOPIC_NOT_FOUND", "message", false);
        assertEquals(FluvioException.Code.TOPIC_NOT_FOUND, known.code());
        assertFalse(known.isRetriable());
        // A name Java does not know is never lost: it becomes INTERNAL.
        assertEquals(FluvioException.Code.INTERNAL, new FluvioException("NO_SUCH_CODE", "m", false).code());
        assertNull(known.tlsFailure());
        FluvioException tls = new FluvioException("TLS", "m", false, "UNKNOWN_ISSUER");
        assertEquals(FluvioException.Code.TLS, tls.code());
        assertEquals(FluvioException.TlsFailure.UNKNOWN_ISSUER, tls.tlsFailure());
        // An unknown failure name keeps the code and says only that the handshake failed.
        assertEquals(FluvioException.TlsFailure.HANDSHAKE, new FluvioException("TLS", "m", false, "NEW").tlsFailure());
        FluvioException made = new FluvioException(FluvioException.Code.TIMEOUT, "m", true);
        assertEquals(FluvioException.Code.TIMEOUT, made.code());
        assertTrue(made.isRetriable());
        assertEquals("m", made.getMessage());
    }

    @Test
    void realFailuresCarryCodeAndRetriability() throws Exception {
        FluvioException connect = assertThrows(FluvioException.class,
                () -> Fluvio.connect("127.0.0.1:" + ConnectTest.closedPort()));
        assertEquals(FluvioException.Code.CONNECT, connect.code());
        assertTrue(connect.isRetriable());

        String topic = newTopic(1);
        FluvioException exists = assertThrows(FluvioException.class, () -> fluvio.admin().createTopic(topic, 1, 1));
        assertEquals(FluvioException.Code.TOPIC_ALREADY_EXISTS, exists.code());
        assertFalse(exists.isRetriable());

        FluvioException missing = assertThrows(FluvioException.class, () -> fluvio.topicProducer("no-such-topic"));
        assertEquals(FluvioException.Code.TOPIC_NOT_FOUND, missing.code());
        assertFalse(missing.isRetriable());

        FluvioException name = assertThrows(FluvioException.class, () -> fluvio.admin().createTopic("Bad_Name", 1, 1));
        assertEquals(FluvioException.Code.INVALID_TOPIC_NAME, name.code());
        assertFalse(name.isRetriable());

        Set<FluvioException.Code> seen = new HashSet<>(Arrays.asList(connect.code(), exists.code(), missing.code(),
                name.code()));
        assertEquals(4, seen.size());
    }

    @Test
    void aPanicInNativeCodeIsAnInternalExceptionAndTheLibraryStaysUsable() throws Exception {
        for (int i = 0; i < 3; i++) {
            FluvioException panic = assertThrows(FluvioException.class, FluvioException::panicInNativeCode);
            assertEquals(FluvioException.Code.INTERNAL, panic.code());
            assertFalse(panic.isRetriable());
        }
        // The same client, and the JVM, carry on after the panics.
        String topic = newTopic(1);
        try (TopicProducer producer = fluvio.topicProducer(topic)) {
            assertEquals(0, producer.send(null, "after the panic").get().offset());
        }
    }
}
