//! Consumer-offset requests (keys 1006..=1008).

use fluvio_spu_schema::server::consumer_offset as tco;
use fluvio_wire::consumer_offset::*;

use super::{ToOurs, ToTheirs};

impl ToTheirs for UpdateConsumerOffsetRequest {
    type Theirs = tco::UpdateConsumerOffsetRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tco::UpdateConsumerOffsetRequest { offset: self.offset, session_id: self.session_id }
    }
}

impl ToOurs for tco::UpdateConsumerOffsetRequest {
    type Ours = UpdateConsumerOffsetRequest;
    fn to_ours(self) -> Self::Ours {
        UpdateConsumerOffsetRequest { offset: self.offset, session_id: self.session_id }
    }
}

impl ToTheirs for UpdateConsumerOffsetResponse {
    type Theirs = tco::UpdateConsumerOffsetResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tco::UpdateConsumerOffsetResponse { offset: self.offset, error_code: self.error_code.to_theirs() }
    }
}

impl ToOurs for tco::UpdateConsumerOffsetResponse {
    type Ours = UpdateConsumerOffsetResponse;
    fn to_ours(self) -> Self::Ours {
        UpdateConsumerOffsetResponse { offset: self.offset, error_code: self.error_code.to_ours() }
    }
}

impl ToTheirs for DeleteConsumerOffsetRequest {
    type Theirs = tco::DeleteConsumerOffsetRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tco::DeleteConsumerOffsetRequest {
            replica_id: self.replica_id.to_theirs(),
            consumer_id: self.consumer_id.clone(),
        }
    }
}

impl ToOurs for tco::DeleteConsumerOffsetRequest {
    type Ours = DeleteConsumerOffsetRequest;
    fn to_ours(self) -> Self::Ours {
        DeleteConsumerOffsetRequest { replica_id: self.replica_id.to_ours(), consumer_id: self.consumer_id }
    }
}

impl ToTheirs for DeleteConsumerOffsetResponse {
    type Theirs = tco::DeleteConsumerOffsetResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tco::DeleteConsumerOffsetResponse { error_code: self.error_code.to_theirs() }
    }
}

impl ToOurs for tco::DeleteConsumerOffsetResponse {
    type Ours = DeleteConsumerOffsetResponse;
    fn to_ours(self) -> Self::Ours {
        DeleteConsumerOffsetResponse { error_code: self.error_code.to_ours() }
    }
}

impl ToTheirs for ConsumerOffsetFilter {
    type Theirs = tco::FilterOpts;
    fn to_theirs(&self) -> Self::Theirs {
        tco::FilterOpts { replica_id: self.replica_id.to_theirs(), consumer_id: self.consumer_id.clone() }
    }
}

impl ToOurs for tco::FilterOpts {
    type Ours = ConsumerOffsetFilter;
    fn to_ours(self) -> Self::Ours {
        ConsumerOffsetFilter { replica_id: self.replica_id.to_ours(), consumer_id: self.consumer_id }
    }
}

impl ToTheirs for FetchConsumerOffsetsRequest {
    type Theirs = tco::FetchConsumerOffsetsRequest;
    fn to_theirs(&self) -> Self::Theirs {
        tco::FetchConsumerOffsetsRequest { filter_opts: self.filter_opts.to_theirs() }
    }
}

impl ToOurs for tco::FetchConsumerOffsetsRequest {
    type Ours = FetchConsumerOffsetsRequest;
    fn to_ours(self) -> Self::Ours {
        FetchConsumerOffsetsRequest { filter_opts: self.filter_opts.to_ours() }
    }
}

impl ToTheirs for ConsumerOffset {
    type Theirs = tco::ConsumerOffset;
    fn to_theirs(&self) -> Self::Theirs {
        tco::ConsumerOffset::new(self.consumer_id.clone(), self.replica_id.to_theirs(), self.offset, self.modified_time)
    }
}

impl ToOurs for tco::ConsumerOffset {
    type Ours = ConsumerOffset;
    fn to_ours(self) -> Self::Ours {
        ConsumerOffset {
            consumer_id: self.consumer_id,
            replica_id: self.replica_id.to_ours(),
            offset: self.offset,
            modified_time: self.modified_time,
        }
    }
}

impl ToTheirs for FetchConsumerOffsetsResponse {
    type Theirs = tco::FetchConsumerOffsetsResponse;
    fn to_theirs(&self) -> Self::Theirs {
        tco::FetchConsumerOffsetsResponse {
            error_code: self.error_code.to_theirs(),
            consumers: self.consumers.to_theirs(),
        }
    }
}

impl ToOurs for tco::FetchConsumerOffsetsResponse {
    type Ours = FetchConsumerOffsetsResponse;
    fn to_ours(self) -> Self::Ours {
        FetchConsumerOffsetsResponse { error_code: self.error_code.to_ours(), consumers: self.consumers.to_ours() }
    }
}
