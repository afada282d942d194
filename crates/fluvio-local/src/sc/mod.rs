//! The SC: owns the metadata, decides where partitions live, tells SPUs what to host, and
//! serves the admin API and watch streams to clients.

mod admin;
mod election;
mod journal;
pub(crate) mod store;
mod system;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fluvio_wire::error_code::{ErrorCode, ReplicaKey};
use fluvio_wire::sc::partition::{
    PartitionResolution, PartitionSpec, PartitionStatus, ReplicaStatus, partition_name, split_partition_name,
};
use fluvio_wire::sc::spu::{
    EncryptionType, Endpoint, IngressAddr, IngressPort, SpuSpec, SpuStatus, SpuStatusResolution, SpuType,
};
use fluvio_wire::sc::topic::{ReplicaSpec, TopicResolution, TopicSpec, TopicStatus, UpdateTopicAction};
use fluvio_wire::sc::{CommonCreateRequest, Metadata, Status};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

pub(crate) use journal::{PartitionReplication, StoreError};
pub(crate) use store::MetadataStore;
use validate::Refusal;

use crate::control::{ReplicaAssignment, ReplicaConfig, ReplicaFailure, ReplicaReport, ScToSpu, SpuLink, SpuToSc};
use crate::names::spu_name;
use crate::net;
use crate::policy::ReplicationPolicy;
use crate::tasks::TaskGroup;

/// How long a stopping SC waits for its tasks before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings of the SC.
#[derive(Debug, Clone)]
pub(crate) struct ScSettings {
    /// How long a Create waits for every partition to come online.
    pub provisioning_timeout: Duration,
    /// What the public listener allows each connection.
    pub connections: net::ConnectionLimits,
    /// Host advertised in SPU endpoints.
    pub host: String,
    /// In-sync replicas a partition needs for records to be committed.
    pub min_live_replicas: u16,
    /// Which replica may be elected, and what `lsr` counts.
    pub policy: ReplicationPolicy,
    /// An SPU that sends no heartbeat for this long is declared dead.
    pub spu_timeout: Duration,
    /// TLS of the public listener (None: plain TCP).
    pub tls: Option<crate::tls::TlsAcceptor>,
}

/// The SC's state, shared by its connections and tasks.
pub(crate) struct Sc {
    /// Itself, for work that runs later (a pending election).
    me: std::sync::Weak<Sc>,
    store: MetadataStore,
    elections: election::Elections,
    settings: ScSettings,
    links: Mutex<HashMap<i32, SpuLinkState>>,
    tasks: TaskGroup,
    /// Partitions that cannot be served (see [`Sc::partition_unavailable`]). Cleared when the
    /// partition comes online.
    unavailable: Mutex<BTreeMap<String, Unavailable>>,
    /// What the SPUs know of the cluster (see [`crate::view`]), kept current from the store.
    view: tokio::sync::watch::Sender<Arc<crate::view::ClusterView>>,
    /// Keeps the data directory locked while the SC may still write its metadata.
    _lock: Arc<crate::lock::DirectoryLock>,
    /// The cluster's shutdown, once serving: SPUs leaving then are no news.
    stopping: std::sync::OnceLock<CancellationToken>,
}

struct SpuLinkState {
    to_spu: mpsc::UnboundedSender<ScToSpu>,
    /// Distinguishes a re-registration from the link it replaced.
    generation: u64,
    /// Where its followers reach it.
    private_addr: SocketAddr,
}

/// Why a partition cannot be served.
#[derive(Debug, Clone)]
struct Unavailable {
    /// What its clients are told.
    code: ErrorCode,
    /// Why, for the topic's status.
    reason: String,
    /// Whether the SC retries the election every [`UNAVAILABLE_RETRY`]: the cause (a full
    /// disk) may go away by itself, while damaged files need an operator.
    retry: bool,
}

/// How often the SC retries electing a leader for partitions unavailable for lack of space.
const UNAVAILABLE_RETRY: Duration = Duration::from_secs(2);

impl Sc {
    /// Opens the SC's store under `dir` and resets every status: nothing is online until SPUs
    /// register and report.
    pub(crate) fn open(
        dir: &std::path::Path,
        settings: ScSettings,
        lock: Arc<crate::lock::DirectoryLock>,
    ) -> Result<Arc<Self>, StoreError> {
        let store = MetadataStore::open(dir)?;
        let view = crate::view::channel(&store);
        let sc = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            store,
            elections: election::Elections::default(),
            settings,
            links: Mutex::new(HashMap::new()),
            tasks: TaskGroup::new(),
            unavailable: Mutex::new(BTreeMap::new()),
            view,
            _lock: lock,
            stopping: std::sync::OnceLock::new(),
        });
        if sc.store.loaded_version() < 2 {
            sc.repair_half_made_topics();
        }
        let topics = sc.store.all::<TopicSpec>();
        let replica_maps: Vec<(String, BTreeMap<u32, Vec<i32>>)> = topics
            .iter()
            .map(|topic| {
                let map = sc
                    .partitions_of(&topic.name)
                    .into_iter()
                    .filter_map(|p| split_partition_name(&p.name).map(|(_, i)| (i, p.spec.replicas.clone())))
                    .collect();
                (topic.name.clone(), map)
            })
            .collect();
        for (name, replica_map) in replica_maps {
            // A topic without partitions waits for enough SPUs to be placed.
            let status = match replica_map.is_empty() {
                false => TopicStatus { resolution: TopicResolution::Pending, replica_map, ..Default::default() },
                true => unplaced_status(),
            };
            sc.store.update_status::<TopicSpec>(&name, |s| *s = status);
        }
        for spu in sc.store.all::<SpuSpec>() {
            sc.store
                .update_status::<SpuSpec>(&spu.name, |s| *s = SpuStatus { resolution: SpuStatusResolution::Offline });
        }
        Ok(sc)
    }

    /// Mends what versions before atomic metadata changes (files before version 2) could leave
    /// after a failed write: a topic stored without its partitions (it never held a record) is
    /// removed; a partition missing from a topic that has others is unavailable. Either way the
    /// cluster starts.
    fn repair_half_made_topics(&self) {
        for topic in self.store.all::<TopicSpec>() {
            let stored: Vec<u32> = self
                .partitions_of(&topic.name)
                .iter()
                .filter_map(|p| split_partition_name(&p.name).map(|(_, index)| index))
                .collect();
            if stored.is_empty() {
                warn!(topic = %topic.name, "removing a topic whose creation never completed (no partition was stored)");
                let removed =
                    self.store.transaction().delete::<TopicSpec>(vec![topic.name.clone()]).commit_unsaved_ok();
                if let Err(err) = removed {
                    warn!(topic = %topic.name, %err, "the removal will be stored with the next change");
                }
                continue;
            }
            for index in 0..topic.spec.replicas.partition_count() {
                if !stored.contains(&index) {
                    let name = partition_name(&topic.name, index);
                    warn!(partition = %name, "the metadata lists a topic without this partition");
                    let message = "the partition is missing from the metadata (an interrupted change)".to_string();
                    self.partition_unavailable(&name, ErrorCode::StorageError, message, false);
                }
            }
        }
    }

    /// Starts serving clients on `listener`.
    pub(crate) fn serve(self: &Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        let _ = self.stopping.set(shutdown.clone());
        let sc = self.clone();
        let stop = shutdown.clone();
        self.tasks.spawn(async move { crate::view::publish(sc.store(), &sc.view, stop).await });
        let sc = Arc::downgrade(self);
        let stop = shutdown.clone();
        self.tasks.spawn(async move {
            let mut ticker = tokio::time::interval(UNAVAILABLE_RETRY);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    _ = stop.cancelled() => return,
                }
                let Some(sc) = sc.upgrade() else { return };
                sc.retry_unavailable();
            }
        });
        let sc = self.clone();
        self.tasks.spawn(net::accept_loop_with_tls(
            listener,
            self.settings.tls.clone(),
            shutdown,
            self.tasks.clone(),
            self.settings.connections.clone(),
            move |_peer| admin::ScConnection::new(sc.clone()),
        ));
    }

    /// Whether the whole cluster is stopping.
    pub(super) fn is_stopping(&self) -> bool {
        self.stopping.get().is_some_and(CancellationToken::is_cancelled)
    }

    /// Waits for the SC's tasks to end after its shutdown token fired, aborting whatever is
    /// still running after a grace period (a client that stopped reading must not hang a
    /// shutdown), then folds the metadata journal into its snapshot.
    pub(crate) async fn wait_stopped(&self) {
        if !self.tasks.wait_or_abort(SHUTDOWN_GRACE).await {
            warn!("SC tasks did not stop within {SHUTDOWN_GRACE:?}; aborted");
        }
        // The metadata journal is folded into the snapshot, so the next start replays nothing.
        if let Err(err) = self.store.checkpoint() {
            warn!(%err, "could not compact the metadata journal at stop");
        }
    }

    pub(crate) fn store(&self) -> &MetadataStore {
        &self.store
    }

    /// The first topic, in name order from `from` on, with a partition that is neither online
    /// nor known to be unavailable; `None` once every topic from `from` on is settled. What a
    /// starting cluster waits for (so that one damaged partition never keeps the rest from
    /// serving), asking again after each change from where it stopped, so that waiting for N
    /// topics costs O(N) rather than a scan of every topic per change. Topics waiting for
    /// enough SPUs (`InsufficientResources`) are not waited for.
    pub(crate) fn first_unsettled(&self, from: &str) -> Option<String> {
        let unavailable = self.unavailable.lock();
        self.store.read(|objects| {
            let topics = objects.topics.range::<str, _>((std::ops::Bound::Included(from), std::ops::Bound::Unbounded));
            let settled = |topic: &Metadata<TopicSpec>| {
                if topic.status.resolution == TopicResolution::InsufficientResources {
                    return true;
                }
                let expected = topic.spec.replicas.partition_count();
                let mut some_unavailable = false;
                let partitions_settled = (0..expected).all(|index| {
                    let name = partition_name(&topic.name, index);
                    some_unavailable |= unavailable.contains_key(&name);
                    unavailable.contains_key(&name)
                        || objects.partitions.get(&name).is_some_and(|p| is_serving(p.status.resolution))
                });
                // The topic's own status follows its partitions' in a later store update: a
                // caller told "settled" must also see the topic Provisioned.
                partitions_settled && (some_unavailable || topic.status.resolution == TopicResolution::Provisioned)
            };
            topics.map(|(_, topic)| topic).find(|topic| !settled(topic)).map(|topic| topic.name.clone())
        })
    }

    /// The first partition, in name order from `from` on, that SPU `id` leads and that is
    /// neither serving under it nor known to be unavailable; `None` once there is none from
    /// `from` on. What a restarted SPU waits for, resumed like [`Self::first_unsettled`].
    pub(crate) fn first_led_not_serving(&self, id: i32, from: &str) -> Option<String> {
        let unavailable = self.unavailable.lock();
        self.store.read(|objects| {
            objects
                .partitions
                .range::<str, _>((std::ops::Bound::Included(from), std::ops::Bound::Unbounded))
                .map(|(_, partition)| partition)
                .find(|p| {
                    let serving = is_serving(p.status.resolution) && p.status.leader.spu == id;
                    p.spec.leader == id && !serving && !unavailable.contains_key(&p.name)
                })
                .map(|partition| partition.name.clone())
        })
    }

    fn partitions_of(&self, topic: &str) -> Vec<Metadata<PartitionSpec>> {
        // Partition names are `<topic>-<index>`: only the names with that prefix are looked at,
        // not every partition of the cluster.
        let prefix = format!("{topic}-");
        self.store.read(|objects| {
            objects
                .partitions
                .range(prefix.clone()..)
                .take_while(|(name, _)| name.starts_with(&prefix))
                .filter(|(name, _)| split_partition_name(name).is_some_and(|(t, _)| t == topic))
                .map(|(_, partition)| partition.clone())
                .collect()
        })
    }

    // ---------------------------------------------------------------------------------------
    // SPUs

    /// Registers SPU `id`, now serving clients at `public_addr` and replicas at
    /// `private_addr`, and returns its control link. The SPU is Online until the link is
    /// dropped or its heartbeats stop for `spu_timeout`; the returned token is cancelled once
    /// the SC has then marked it Offline and moved the leadership of its partitions.
    pub(crate) fn register_spu(
        self: &Arc<Self>,
        id: i32,
        public_addr: SocketAddr,
        private_addr: SocketAddr,
    ) -> Result<(SpuLink, CancellationToken), StoreError> {
        let host = self.settings.host.clone();
        let spec = SpuSpec {
            id,
            spu_type: SpuType::Custom,
            public_endpoint: IngressPort {
                port: public_addr.port(),
                ingress: vec![IngressAddr { hostname: Some(host.clone()), ip: None }],
                encryption: EncryptionType::Plaintext,
            },
            private_endpoint: Endpoint { port: private_addr.port(), host, encryption: EncryptionType::Plaintext },
            rack: None,
            public_endpoint_local: None,
        };
        let name = spu_name(id);
        let registered = self
            .store
            .transaction()
            .upsert(vec![Metadata {
                name: name.clone(),
                spec,
                status: SpuStatus { resolution: SpuStatusResolution::Online },
            }])
            .commit_unsaved_ok();
        if let Err(err) = registered {
            // Endpoints are facts of this run, rebuilt at every start: a full disk must not
            // keep an SPU out of the cluster.
            warn!(spu = id, %err, "could not save the SPU's endpoints; serving anyway");
        }

        let (to_spu, from_sc) = mpsc::unbounded_channel();
        let (to_sc, mut reports) = mpsc::unbounded_channel();
        let generation = {
            let mut links = self.links.lock();
            let generation = links.get(&id).map_or(1, |l| l.generation + 1);
            links.insert(id, SpuLinkState { to_spu: to_spu.clone(), generation, private_addr });
            generation
        };
        self.spu_arrived(id);
        let _ = to_spu.send(ScToSpu::Sync(self.assignments_for(id)));
        debug!(spu = id, %public_addr, %private_addr, "SPU registered");
        self.place_waiting_topics();

        let sc = self.clone();
        let unregistered = CancellationToken::new();
        let gone = unregistered.clone();
        let timeout = self.settings.spu_timeout;
        self.tasks.spawn(async move {
            loop {
                match tokio::time::timeout(timeout, reports.recv()).await {
                    Ok(Some(report)) => sc.handle_report(id, report),
                    // The SPU dropped its link: it stopped or died.
                    Ok(None) => break,
                    Err(_) => {
                        warn!(spu = id, ?timeout, "no heartbeat from the SPU; declaring it dead");
                        break;
                    }
                }
            }
            // Dropping our ends of the link (`reports` here, the sender with the link state)
            // fences an SPU that is still running.
            drop(reports);
            sc.spu_gone(id, generation);
            gone.cancel();
        });
        Ok((SpuLink { from_sc, to_sc, view: self.view.subscribe() }, unregistered))
    }

    fn spu_gone(&self, id: i32, generation: u64) {
        {
            let mut links = self.links.lock();
            if links.get(&id).map(|l| l.generation) != Some(generation) {
                return; // already replaced by a newer registration
            }
            links.remove(&id);
        }
        if self.is_stopping() {
            debug!(spu = id, "SPU offline (the cluster is stopping)");
        } else {
            info!(spu = id, "SPU offline");
        }
        self.elections.forget_spu(id);
        self.store.update_status::<SpuSpec>(&spu_name(id), |s| s.resolution = SpuStatusResolution::Offline);
        for partition in self.store.all::<PartitionSpec>() {
            if partition.spec.leader == id {
                self.leader_offline(&partition, id);
            }
        }
    }

    fn send_to_spu(&self, id: i32, message: ScToSpu) {
        if let Some(link) = self.links.lock().get(&id) {
            let _ = link.to_spu.send(message);
        }
    }

    fn online_spus(&self) -> Vec<i32> {
        let mut ids: Vec<i32> = self.links.lock().keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    fn assignments_for(&self, spu: i32) -> Vec<ReplicaAssignment> {
        self.store
            .all::<PartitionSpec>()
            .into_iter()
            .filter(|p| p.spec.replicas.contains(&spu))
            .filter_map(|p| self.assignment_of(&p))
            .collect()
    }

    /// What the replicas of `partition` must know: leader, epoch, ISR, the leader's address.
    fn assignment_of(&self, partition: &Metadata<PartitionSpec>) -> Option<ReplicaAssignment> {
        let (topic, index) = split_partition_name(&partition.name)?;
        let topic_spec = self.store.get::<TopicSpec>(topic)?.spec;
        let replication = self.store.replication(&partition.name).unwrap_or_default();
        let leader =
            if self.elections.is_waiting(&partition.name) { election::NO_LEADER } else { partition.spec.leader };
        let leader_private = self.links.lock().get(&leader).map(|l| l.private_addr);
        Some(ReplicaAssignment {
            key: ReplicaKey::new(topic, index),
            leader,
            replicas: partition.spec.replicas.clone(),
            config: replica_config(&topic_spec),
            epoch: replication.epoch,
            isr: replication.isr,
            leader_private,
        })
    }

    /// Sends `partition`'s current assignment to its online replicas, except `skip`.
    fn notify_replicas(&self, partition: &Metadata<PartitionSpec>, skip: Option<i32>) {
        let Some(assignment) = self.assignment_of(partition) else { return };
        for spu in partition.spec.replicas.iter().filter(|id| Some(**id) != skip) {
            self.send_to_spu(*spu, ScToSpu::Upsert(assignment.clone()));
        }
    }

    fn handle_report(&self, spu: i32, message: SpuToSc) {
        match message {
            SpuToSc::Heartbeat => {}
            SpuToSc::ReplicaOnline(key, report) => {
                self.replica_reported(spu, &key, &report);
                let name = key.to_string();
                let Some(partition) = self.store.get::<PartitionSpec>(&name) else { return };
                let replication = self.store.replication(&name).unwrap_or_default();
                // Only the current leader, in the current epoch, speaks for the partition.
                if !report.leader || partition.spec.leader != spu || report.epoch != replication.epoch {
                    return;
                }
                let policy = self.settings.policy;
                self.store.update_status::<PartitionSpec>(&name, |status| apply_leader_report(status, &report, policy));
                if self.unavailable.lock().remove(&name).is_some() {
                    info!(partition = %name, spu, "partition available again");
                    let reason = self.topic_reason(&key.topic);
                    self.store.update_status::<TopicSpec>(&key.topic, |s| s.reason = reason);
                }
                self.refresh_topic_resolution(&key.topic);
            }
            SpuToSc::ReplicaFailed(key, failure) => self.replica_failed(spu, &key, failure),
            SpuToSc::IsrChange { key, epoch, isr, reply } => {
                let _ = reply.send(self.change_isr(spu, &key, epoch, isr));
            }
        }
    }

    /// SPU `spu` cannot open its replica of `key`. The failure stays with that partition: the
    /// replica leaves the in-sync replicas unless it is the last one, and elections neither
    /// choose it nor wait for its report (see [`Sc::replica_unopenable`]). If the SPU led the
    /// partition, another in-sync replica is elected when one can be; while one may still
    /// report, the partition waits for it; when none is left, the partition is unavailable
    /// (its status `LeaderOffline`, its topic's status naming the cause) and the SPU answers
    /// its clients with the storage error, while every other partition and SPU keeps serving.
    fn replica_failed(&self, spu: i32, key: &ReplicaKey, failure: ReplicaFailure) {
        let name = key.to_string();
        let Some(partition) = self.store.get::<PartitionSpec>(&name) else { return };
        warn!(spu, partition = %name, message = %failure.message, "replica unavailable");
        self.replica_unopenable(&partition, spu, &failure.message);
        // As it is now: leaving the in-sync replicas may have elected another leader.
        let Some(partition) = self.store.get::<PartitionSpec>(&name) else { return };
        if partition.spec.leader != spu {
            return; // a follower, or another replica leads now
        }
        let isr = self.store.replication(&name).unwrap_or_default().isr;
        let others_may_lead = self.elections.may_lead_besides(&name, &isr, spu);
        if !self.elections.is_waiting(&name) || !others_may_lead {
            self.leader_lost(&partition, spu);
            if !self.elections.is_waiting(&name) {
                return; // elected
            }
        }
        let message = format!("SPU {spu}: {}", failure.message);
        if others_may_lead {
            // Another in-sync replica has yet to report (it is offline, or opening its log):
            // the partition waits for it, as for any leader loss, and elects it when it does.
            self.store.update_status::<TopicSpec>(&key.topic, |s| {
                s.reason = format!("partition {name} waits for an in-sync replica: {message}")
            });
        } else {
            let retry = matches!(failure.code, ErrorCode::PartitionFull { .. });
            self.partition_unavailable(&name, failure.code, message, retry);
        }
    }

    /// Records that `partition` cannot be served: its topic's status tells why, and a starting
    /// cluster does not wait for it. With `retry`, its election is tried again every
    /// [`UNAVAILABLE_RETRY`], so that it comes back by itself once disk space is.
    pub(super) fn partition_unavailable(&self, partition: &str, code: ErrorCode, message: String, retry: bool) {
        let reason = format!("partition {partition} is unavailable: {message}");
        self.unavailable.lock().insert(partition.to_string(), Unavailable { code, reason, retry });
        if let Some((topic, _)) = split_partition_name(partition) {
            let reason = self.topic_reason(topic);
            self.store.update_status::<TopicSpec>(topic, |s| s.reason = reason);
        }
    }

    /// What the status of `topic` says: why partitions of it are unavailable, then the records
    /// its replicas lost (see [`election::Elections::loss_report`]); empty when all is well.
    pub(super) fn topic_reason(&self, topic: &str) -> String {
        let mut reasons: Vec<String> = self
            .unavailable
            .lock()
            .iter()
            .filter(|(partition, _)| split_partition_name(partition).is_some_and(|(t, _)| t == topic))
            .map(|(_, unavailable)| unavailable.reason.clone())
            .collect();
        let losses = self.elections.loss_report(topic);
        if !losses.is_empty() {
            reasons.push(losses);
        }
        reasons.join("; ")
    }

    /// Partitions that cannot be served, with the error clients get and why.
    pub(crate) fn unavailable_partitions(&self) -> Vec<(String, ErrorCode, String)> {
        self.unavailable.lock().iter().map(|(name, u)| (name.clone(), u.code.clone(), u.reason.clone())).collect()
    }

    /// Tries again to elect a leader for each partition unavailable for lack of space.
    fn retry_unavailable(&self) {
        let retried: Vec<String> =
            self.unavailable.lock().iter().filter(|(_, u)| u.retry).map(|(name, _)| name.clone()).collect();
        for name in retried {
            if let Some(partition) = self.store.get::<PartitionSpec>(&name)
                && !is_serving(partition.status.resolution)
            {
                self.retry_election(&partition);
            }
        }
    }

    fn refresh_topic_resolution(&self, topic: &str) {
        let partitions = self.partitions_of(topic);
        let Some(topic_object) = self.store.get::<TopicSpec>(topic) else { return };
        let expected = topic_object.spec.replicas.partition_count() as usize;
        let online = partitions.iter().filter(|p| is_serving(p.status.resolution)).count();
        if partitions.len() == expected && online == expected {
            let reason = self.topic_reason(topic);
            self.store.update_status::<TopicSpec>(topic, |s| {
                s.resolution = TopicResolution::Provisioned;
                s.reason = reason;
            });
        }
    }

    // ---------------------------------------------------------------------------------------
    // Topics

    /// Creates a topic and waits until every partition is online, as the official SC does: a
    /// computed topic whose replication factor exceeds the online SPUs is created all the same,
    /// with the status `InsufficientResources` and no partitions (placed once enough SPUs are
    /// online), and its answer comes after the provisioning timeout, `TopicNotProvisioned`.
    pub(crate) async fn create_topic(&self, common: &CommonCreateRequest, spec: TopicSpec) -> Status {
        let name = common.name.clone();
        let refuse = |(code, message): Refusal| Status::error(name.clone(), code, message);
        if let Err(refusal) = validate::validate_name(&name) {
            return refuse(refusal);
        }
        if self.store.get::<TopicSpec>(&name).is_some() {
            return Status::error(
                name.clone(),
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists"),
            );
        }
        if let Err(refusal) = validate::validate_config(&spec) {
            return refuse(refusal);
        }
        if let Some(dedup) = &spec.deduplication {
            let module = dedup.filter.transform.uses.clone();
            return Status::error(
                name.clone(),
                ErrorCode::SmartModuleNotFound { name: module.clone() },
                format!("deduplication SmartModule '{module}' is not installed (fluvio-local runs no SmartModules)"),
            );
        }
        let known_spus: Vec<i32> = self.store.all::<SpuSpec>().iter().map(|s| s.spec.id).collect();
        if let Err(refusal) = validate::validate_replicas(&spec, &known_spus) {
            return refuse(refusal);
        }
        let replication = spec.replicas.replication_factor().unwrap_or(1);
        let min_live = u32::from(self.settings.min_live_replicas);
        if replication < min_live {
            return Status::error(
                name.clone(),
                ErrorCode::TopicInvalidConfiguration,
                format!(
                    "replication factor {replication} is below the cluster's min-live-replicas {min_live}: \
                     no record could ever be committed"
                ),
            );
        }
        let placement = match self.assign(&spec) {
            Ok(placement) => placement,
            Err(refusal) => return refuse(refusal),
        };
        if common.dry_run {
            return Status::ok(name);
        }
        let stored = match placement {
            Some(assignment) => self.provision(&name, spec, assignment, 0),
            None => self.store_unplaced(&name, spec),
        };
        if let Err(err) = stored {
            return storage_failure(&name, &err);
        }
        let status = self.await_provisioned(&name).await;
        if !status.error_code.is_ok() && self.has_unavailable_partition(&name) {
            // A partition could not be created on any replica (a full disk): the topic is
            // taken back, so that it is not left half made and can be created again.
            let undone = self.delete_topic(&name, true);
            if !undone.error_code.is_ok() {
                warn!(topic = name, message = ?undone.error_message, "could not take back a failed topic");
            }
        }
        status
    }

    /// Stores a topic that cannot be placed yet (too few SPUs online), without partitions.
    fn store_unplaced(&self, name: &str, spec: TopicSpec) -> Result<(), StoreError> {
        let topic = Metadata { name: name.to_string(), spec, status: unplaced_status() };
        self.store.transaction().upsert(vec![topic]).commit()?;
        info!(topic = name, "not enough SPUs online: the topic waits to be placed (InsufficientResources)");
        Ok(())
    }

    /// Places the topics waiting for enough SPUs, where the online SPUs now suffice.
    fn place_waiting_topics(&self) {
        let waiting: Vec<Metadata<TopicSpec>> = self
            .store
            .all::<TopicSpec>()
            .into_iter()
            .filter(|topic| topic.status.resolution == TopicResolution::InsufficientResources)
            .collect();
        for topic in waiting {
            let Ok(Some(assignment)) = self.assign(&topic.spec) else { continue };
            match self.provision(&topic.name, topic.spec, assignment, 0) {
                Ok(()) => info!(topic = %topic.name, "enough SPUs online: the topic is placed"),
                Err(err) => warn!(topic = %topic.name, %err, "could not store the placement of a waiting topic"),
            }
        }
    }

    fn has_unavailable_partition(&self, topic: &str) -> bool {
        self.unavailable.lock().keys().any(|p| split_partition_name(p).is_some_and(|(t, _)| t == topic))
    }

    /// Replica lists for every partition of a new topic; `None` for a computed topic whose
    /// replication factor exceeds the online SPUs (it cannot be placed now).
    fn assign(&self, spec: &TopicSpec) -> Result<Option<Vec<Vec<i32>>>, Refusal> {
        match &spec.replicas {
            ReplicaSpec::Assigned(maps) => {
                let mut maps = maps.clone();
                maps.sort_by_key(|m| m.id);
                Ok(Some(maps.into_iter().map(|m| m.replicas).collect()))
            }
            ReplicaSpec::Computed(param) => {
                let online = self.online_spus();
                if online.len() < param.replication_factor as usize {
                    return Ok(None);
                }
                Ok(Some(self.compute_assignment(&online, param.partitions, param.replication_factor, 0)))
            }
            ReplicaSpec::Mirror(_) => unreachable!("refused by validation"),
        }
    }

    /// Leaders go to the SPUs leading the fewest partitions (lowest id on ties); followers
    /// follow in id order after the leader. System partitions (`consumer-offset`) do not
    /// count: users' topics are placed as if they were alone.
    fn compute_assignment(&self, online: &[i32], partitions: u32, replication: u32, first: u32) -> Vec<Vec<i32>> {
        let mut leader_load: BTreeMap<i32, usize> = online.iter().map(|id| (*id, 0)).collect();
        self.store.read(|objects| {
            for partition in objects.partitions.values().filter(|p| !p.spec.system) {
                if let Some(load) = leader_load.get_mut(&partition.spec.leader) {
                    *load += 1;
                }
            }
        });
        (first..first + partitions)
            .map(|_| {
                let (&leader, _) = leader_load.iter().min_by_key(|(id, load)| (**load, **id)).expect("online SPUs");
                *leader_load.get_mut(&leader).expect("present") += 1;
                let start = online.iter().position(|id| *id == leader).expect("present");
                (0..replication as usize).map(|i| online[(start + i) % online.len()]).collect()
            })
            .collect()
    }

    /// Stores the topic and its new partitions (indexes `first..`; earlier ones exist and
    /// keep their leader and state) and tells the SPUs.
    fn provision(&self, name: &str, spec: TopicSpec, replicas: Vec<Vec<i32>>, first: u32) -> Result<(), StoreError> {
        let replica_map: BTreeMap<u32, Vec<i32>> =
            replicas.iter().enumerate().map(|(i, r)| (i as u32, r.clone())).collect();
        let partitions: Vec<Metadata<PartitionSpec>> = replicas
            .iter()
            .enumerate()
            .skip(first as usize)
            .map(|(index, replicas)| Metadata {
                name: partition_name(name, index as u32),
                spec: partition_spec(&spec, replicas.clone()),
                status: PartitionStatus::default(),
            })
            .collect();
        // One transaction: the topic, its partitions and their replication state are stored
        // together or not at all, so a failed write leaves no topic without partitions.
        let topic = Metadata {
            name: name.to_string(),
            spec,
            status: TopicStatus { resolution: TopicResolution::Pending, replica_map, ..Default::default() },
        };
        // Every replica starts in sync: they are all empty.
        let replication = partitions
            .iter()
            .map(|p| (p.name.clone(), PartitionReplication { epoch: 0, isr: p.spec.replicas.clone() }));
        let mut transaction = self.store.transaction().upsert(vec![topic]).upsert(partitions.clone());
        for (partition, replication) in replication {
            transaction = transaction.replication(partition, replication);
        }
        transaction.commit()?;
        for partition in &partitions {
            self.notify_replicas(partition, None);
        }
        debug!(topic = name, partitions = partitions.len(), "partitions created");
        Ok(())
    }

    async fn await_provisioned(&self, name: &str) -> Status {
        let mut events = self.store.subscribe();
        let deadline = tokio::time::Instant::now() + self.settings.provisioning_timeout;
        loop {
            let Some(topic) = self.store.get::<TopicSpec>(name) else {
                return Status::error(
                    name,
                    ErrorCode::TopicNotFound,
                    format!("Topic '{name}' was deleted while being created"),
                );
            };
            if topic.status.resolution == TopicResolution::Provisioned {
                return Status::ok(name);
            }
            let failed = {
                let unavailable = self.unavailable.lock();
                let prefix_matches = |partition: &str| split_partition_name(partition).is_some_and(|(t, _)| t == name);
                unavailable.iter().find(|(partition, _)| prefix_matches(partition)).map(|(_, failure)| failure.clone())
            };
            if let Some(failure) = failed {
                return Status::error(name, failure.code, failure.reason);
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => continue,
                Ok(Err(_)) => return Status::error(name, ErrorCode::TopicNotProvisioned, "the SC is shutting down"),
                Err(_) => {
                    // The official SC's answer, word for word.
                    let online = self.partitions_of(name).iter().filter(|p| is_serving(p.status.resolution)).count();
                    let expected = topic.spec.replicas.partition_count();
                    return Status::error(
                        name,
                        ErrorCode::TopicNotProvisioned,
                        format!("only {online} out of {expected} provisioned"),
                    );
                }
            }
        }
    }

    /// Deletes a topic: its partitions disappear and SPUs delete their data.
    pub(crate) fn delete_topic(&self, name: &str, force: bool) -> Status {
        let Some(topic) = self.store.get::<TopicSpec>(name) else {
            return Status::error(name, ErrorCode::TopicNotFound, format!("Topic '{name}' not found"));
        };
        if topic.spec.system && !force {
            return Status::error(
                name,
                ErrorCode::SystemSpecDeletionAttempt { kind: "topic".into(), name: name.into() },
                format!("topic '{name}' is a system topic; deleting it needs force"),
            );
        }
        let partitions = self.partitions_of(name);
        let names: Vec<String> = partitions.iter().map(|p| p.name.clone()).collect();
        // Stored first: if that fails, the topic and its data stay as they were.
        let result = self
            .store
            .transaction()
            .delete::<PartitionSpec>(names.clone())
            .delete::<TopicSpec>(vec![name.to_string()])
            .commit();
        if let Err(err) = result {
            return storage_failure(name, &err);
        }
        self.unavailable.lock().retain(|partition, _| !partitions.iter().any(|p| &p.name == partition));
        for partition in &partitions {
            if let Some((topic, index)) = split_partition_name(&partition.name) {
                for spu in &partition.spec.replicas {
                    self.send_to_spu(*spu, ScToSpu::Remove(ReplicaKey::new(topic, index)));
                }
            }
        }
        for name in &names {
            self.elections.forget_partition(name);
        }
        debug!(topic = name, "topic deleted");
        Status::ok(name)
    }

    /// Adds partitions to a computed topic.
    pub(crate) async fn update_topic(&self, name: &str, action: UpdateTopicAction) -> Status {
        let Some(topic) = self.store.get::<TopicSpec>(name) else {
            return Status::error(name, ErrorCode::TopicNotFound, format!("Topic '{name}' not found"));
        };
        let count = match action {
            UpdateTopicAction::AddPartition { count } => count,
            UpdateTopicAction::AddMirror { .. } => {
                return Status::error(name, ErrorCode::MirrorInvalidType, "mirrors are not supported by fluvio-local");
            }
        };
        let ReplicaSpec::Computed(mut param) = topic.spec.replicas.clone() else {
            return Status::error(name, ErrorCode::TopicInvalidReplicaType, "only computed topics can grow");
        };
        if count == 0 {
            return Status::error(
                name,
                ErrorCode::TopicError,
                "the number of partitions to add must be greater than 0",
            );
        }
        if let Err((code, message)) = validate::check_partition_count(param.partitions.saturating_add(count)) {
            return Status::error(name, code, message);
        }
        if topic.status.resolution == TopicResolution::InsufficientResources {
            // Not placed yet: all its partitions are created together once it can be.
            param.partitions += count;
            let mut grown = topic.clone();
            grown.spec.replicas = ReplicaSpec::Computed(param);
            if let Err(err) = self.store.upsert(vec![grown]) {
                return storage_failure(name, &err);
            }
            return Status::ok(name);
        }
        let online = self.online_spus();
        if online.len() < param.replication_factor as usize {
            return Status::error(name, ErrorCode::TopicNotProvisioned, "not enough online SPUs");
        }
        let first = param.partitions;
        let new_replicas = self.compute_assignment(&online, count, param.replication_factor, first);
        param.partitions += count;
        let mut spec = topic.spec.clone();
        spec.replicas = ReplicaSpec::Computed(param);
        let mut all_replicas: Vec<Vec<i32>> = self
            .partitions_of(name)
            .into_iter()
            .filter_map(|p| split_partition_name(&p.name).map(|(_, i)| (i, p.spec.replicas)))
            .collect::<BTreeMap<u32, Vec<i32>>>()
            .into_values()
            .collect();
        all_replicas.extend(new_replicas);
        if let Err(err) = self.provision(name, spec, all_replicas, first) {
            return storage_failure(name, &err);
        }
        // Answered at once, as the official SC answers an Update once the spec is stored: the
        // new partitions come online afterwards (clients that need them wait for them).
        Status::ok(name)
    }
}

/// The answer to a request whose metadata could not be stored: `StorageError`, naming the
/// cause (e.g. "No space left on device"). Nothing was changed.
fn storage_failure(name: &str, err: &StoreError) -> Status {
    Status::error(
        name,
        ErrorCode::StorageError,
        format!("the metadata could not be stored, nothing was changed: {err}"),
    )
}

/// Whether a partition in this state serves its leader's clients: `OutOfStorage` partitions
/// are readable, and accept appends again once space is back.
pub(crate) fn is_serving(resolution: PartitionResolution) -> bool {
    matches!(resolution, PartitionResolution::Online | PartitionResolution::OutOfStorage)
}

fn apply_leader_report(status: &mut PartitionStatus, report: &ReplicaReport, policy: ReplicationPolicy) {
    status.resolution =
        if report.out_of_storage { PartitionResolution::OutOfStorage } else { PartitionResolution::Online };
    status.leader = ReplicaStatus { spu: report.spu, hw: report.hw, leo: report.leo };
    status.replicas =
        report.followers.iter().map(|(spu, hw, leo)| ReplicaStatus { spu: *spu, hw: *hw, leo: *leo }).collect();
    status.lsr = match policy {
        // As the official SC counts it: the followers whose log end is the leader's.
        ReplicationPolicy::Fluvio => {
            status.replicas.iter().filter(|r| r.leo != -1 && r.leo == status.leader.leo).count() as u32
        }
        ReplicationPolicy::InSync => in_sync_followers(&report.isr, report.spu),
    };
    status.size = report.size;
    status.base_offset = report.log_start;
}

/// How many members of `isr` other than `leader` there are: the `lsr` of a partition under
/// [`ReplicationPolicy::InSync`] (its in-sync followers; the leader is not counted, as on a
/// real cluster).
pub(super) fn in_sync_followers(isr: &[i32], leader: i32) -> u32 {
    isr.iter().filter(|id| **id != leader).count() as u32
}

/// The status of a topic waiting for enough SPUs to be placed: no reason, as the official SC
/// leaves it (the Create's answer says why).
fn unplaced_status() -> TopicStatus {
    TopicStatus { resolution: TopicResolution::InsufficientResources, ..Default::default() }
}

/// The replica settings a topic implies.
pub(crate) fn replica_config(spec: &TopicSpec) -> ReplicaConfig {
    let storage = spec.storage.unwrap_or_default();
    ReplicaConfig {
        compression: spec.compression_type,
        segment_size: u64::from(storage.segment_size.unwrap_or(validate::DEFAULT_SEGMENT_SIZE)),
        max_partition_size: storage.max_partition_size.unwrap_or(validate::DEFAULT_MAX_PARTITION_SIZE),
        retention_secs: spec.cleanup_policy.map_or(validate::DEFAULT_RETENTION_SECS, |p| p.retention_secs()),
    }
}

fn partition_spec(topic: &TopicSpec, replicas: Vec<i32>) -> PartitionSpec {
    PartitionSpec {
        leader: replicas[0],
        replicas,
        cleanup_policy: topic.cleanup_policy,
        storage: topic.storage,
        compression_type: topic.compression_type,
        deduplication: topic.deduplication.clone(),
        system: topic.system,
        mirror: None,
    }
}
