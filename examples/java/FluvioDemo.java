import com.infinyon.fluvio.ConsumerStream;
import com.infinyon.fluvio.Fluvio;
import com.infinyon.fluvio.LocalCluster;
import com.infinyon.fluvio.Offset;
import com.infinyon.fluvio.PartitionMetadata;
import com.infinyon.fluvio.ProduceOutput;
import com.infinyon.fluvio.Record;
import com.infinyon.fluvio.RecordMetadata;
import com.infinyon.fluvio.TopicProducer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts an embedded Fluvio cluster, creates a topic, produces and consumes records, and prints
 * what happened.
 */
public final class FluvioDemo {
    public static void main(String[] args) {
        System.out.println("Starting an embedded Fluvio cluster (1 SC, 2 SPUs)...");
        try (LocalCluster cluster = LocalCluster.builder().spus(2).build().start();
                Fluvio fluvio = cluster.connect()) {
            System.out.println("  SC listening at " + cluster.endpoint() + ", platform " + fluvio.platformVersion());

            fluvio.admin().createTopic("greetings", 2, 1);
            System.out.println("Created topic 'greetings' with 2 partitions:");
            for (PartitionMetadata partition : fluvio.admin().listPartitions("greetings")) {
                System.out.println("  partition " + partition.partition() + " led by SPU " + partition.spec().leader()
                        + " (" + partition.status().resolution() + ")");
            }

            System.out.println("Producing 6 records (keyed records always go to the same partition):");
            List<ProduceOutput> outputs = new ArrayList<>();
            String[] names = {"ada", "grace", "linus", "ada", "grace", "linus"};
            try (TopicProducer producer = fluvio.topicProducer("greetings")) {
                for (int i = 0; i < names.length; i++) {
                    outputs.add(producer.send(names[i], "hello #" + i + " from " + names[i]));
                }
                producer.flush();
            }
            for (int i = 0; i < outputs.size(); i++) {
                RecordMetadata stored = outputs.get(i).get();
                System.out.println("  key=" + names[i] + " -> partition " + stored.partition() + ", offset " + stored.offset());
            }

            System.out.println("Consuming every partition from the beginning:");
            try (ConsumerStream stream = fluvio.consumer("greetings").stream(Offset.beginning())) {
                Record record;
                int count = 0;
                while (count < outputs.size() && (record = stream.next(Duration.ofSeconds(5))) != null) {
                    System.out.println("  partition " + record.partition() + " offset " + record.offset() + ": "
                            + record.keyString() + " = " + record.valueString());
                    count++;
                }
                System.out.println("Consumed " + count + " records.");
            }
            fluvio.admin().deleteTopic("greetings");
            System.out.println("Deleted the topic; stopping the cluster.");
        }
        System.out.println("Done.");
    }
}
