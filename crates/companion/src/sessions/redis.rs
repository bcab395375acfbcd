//! The Redis store: sessions, attempts and transcripts shared by every replica, kept across
//! restarts, expired by Redis itself. Every value is sealed ([`super::seal`]) with the cookie's
//! id as associated data; keys name a SHA-256 of the id, so what Redis holds gives neither a
//! token nor a cookie. Each multi-step change is one Lua script (atomic in Redis); every call
//! has a timeout, and a store that does not answer is 503 `session_store_unavailable`.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use flow::ErrorCode;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{FromRedisValue, Script};
use sha2::{Digest, Sha256};

use super::records::{Attempt, Handoff, LeaseOutcome, Limits, SessionRecord, Slot, StoredRecord, random_id};
use super::seal::{KeyUsed, SealingKeys};
use crate::error::AppError;
use crate::transcript::{self, TranscriptEntry};

/// How to reach Redis and how to seal what goes there. `Debug` shows neither the URL (it may
/// carry a password) nor a key.
#[derive(Clone)]
pub struct RedisSettings {
    /// The client for the `redis://` or `rediss://` URL.
    pub client: redis::Client,
    /// The sealing keys (`COMPANION_SESSION_KEY`, `COMPANION_SESSION_KEY_PREVIOUS`).
    pub keys: SealingKeys,
    /// The refresh lease's lifetime: how long a dead holder blocks a session's refresh.
    pub lease: Duration,
    /// The longest any one Redis call may take.
    pub call_timeout: Duration,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("lease", &self.lease)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// Seconds to wait before trying again after `session_store_unavailable`.
const RETRY_AFTER_SECS: u64 = 1;
/// How often a waiting replica tries for a lease another one holds.
const LEASE_POLL: Duration = Duration::from_millis(5);
/// What every key starts with.
const PREFIX: &str = "walkthrough";

pub(super) struct RedisStore {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    keys: SealingKeys,
    lease: Duration,
    call_timeout: Duration,
}

/// A lease held in Redis: its key and the random owner only its holder knows.
#[derive(Debug)]
pub struct RedisLease {
    key: String,
    owner: String,
}

/// `session_store_unavailable`, with the detail logged (never sent).
fn unavailable(detail: impl std::fmt::Display) -> AppError {
    tracing::warn!("session store: {detail}");
    retry_soon(AppError::new(ErrorCode::SessionStoreUnavailable))
}

/// `error` with `Retry-After`: what it waits for (the store, another replica's refresh) should
/// be over in a moment.
fn retry_soon(mut error: AppError) -> AppError {
    error.retry_after = Some(RETRY_AFTER_SECS);
    error
}

/// The associated data that binds a sealed value to its kind and its cookie's id.
fn context(kind: &str, id: &str) -> Vec<u8> {
    format!("{kind}:{id}").into_bytes()
}

/// KEYS: session, sessions index. ARGV: now, max sessions, index member, sealed record, ttl,
/// version. The sign-in time is inside the sealed record; `touched` only decides when to push
/// the expiry back.
static CREATE_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[6], 'touched', ARGV[1], 'record', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[1] + ARGV[5], ARGV[3])
return 1",
    )
});

/// Marks a session used: its keys live `ttl` more seconds. KEYS: session, transcript, sessions
/// index. ARGV: now, ttl, index member.
static TOUCH_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'touched', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1] + ARGV[2], ARGV[3])
return 1",
    )
});

/// KEYS: session. ARGV: expected version, new version, sealed record.
static REPLACE_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'record', ARGV[3])
return 1",
    )
});

/// The key kind of a hand-off slot: a hash of `owner` (the attempt key that armed it) and
/// `slot` (what it holds).
const HANDOFF: &str = "handoff-slot";

/// A sign-in attempt, and for the frame its hand-off slot, after the limit's check, in one
/// step: a refused start writes nothing, and a slot exists only beside its attempt (same
/// lifetime, removed with it). A start never re-arms or takes over a slot that exists. KEYS:
/// attempt, attempts index, hand-off slot (the frame's only). ARGV: now, max attempts, index
/// member (the attempt key, and the slot's owner), ttl, sealed attempt.
static START_ATTEMPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[5], 'EX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[1] + ARGV[4], ARGV[3])
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('HSET', KEYS[3], 'owner', ARGV[3], 'slot', '')
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return 1",
    )
});

/// Deletes an attempt, and its hand-off slot if this attempt armed it. Returns 1 only for the
/// one caller that deleted the attempt. KEYS: attempt, attempts index, hand-off slot. ARGV: the
/// attempt key.
static REMOVE_ATTEMPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local deleted = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if deleted == 1 and redis.call('HGET', KEYS[3], 'owner') == ARGV[1] then redis.call('DEL', KEYS[3]) end
return deleted",
    )
});

/// What a hand-off slot holds besides a sealed callback (which starts with the seal's format
/// byte, never a letter): armed and empty, or spent (two callbacks came, or it was taken).
const SLOT_PENDING: &str = "";
const SLOT_CONFLICT: &str = "conflict";

/// A pop-up's callback into its frame's slot. Returns what the slot held before: nil (no slot),
/// `''` (armed: the callback is kept, for at most ARGV[2] seconds), or anything else (it held
/// a callback or was spent: now it is spent). KEYS: hand-off. ARGV: sealed callback, seconds
/// it is kept, the spent marker.
static DELIVER_HANDOFF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local before = redis.call('HGET', KEYS[1], 'slot')
if not before then return nil end
if before == '' then
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > tonumber(ARGV[2]) then ttl = tonumber(ARGV[2]) end
  redis.call('HSET', KEYS[1], 'slot', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ttl)
else
  redis.call('HSET', KEYS[1], 'slot', ARGV[3])
end
return before",
    )
});

/// KEYS: hand-off. ARGV: the spent marker, the taking attempt's key. Returns what the slot
/// held: a sealed callback is taken once (the slot is then spent), `''` while none has come,
/// nil when no sign-in of this attempt waits (no slot, or another attempt's).
static TAKE_HANDOFF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[2] then return nil end
local value = redis.call('HGET', KEYS[1], 'slot')
if value and value ~= '' and value ~= ARGV[1] then redis.call('HSET', KEYS[1], 'slot', ARGV[1]) end
return value",
    )
});

/// A record opened with the previous key, sealed again with the current one, if it is still
/// the record that was read. KEYS: session. ARGV: the sealed record read, the record sealed
/// anew.
static RESEAL_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[1], 'record') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2])
redis.call('HDEL', KEYS[1], 'created')
return 1",
    )
});

/// A transcript sealed again, if it is still the list that was read. KEYS: transcript. ARGV:
/// the count of entries read, then the entries read, then as many sealed anew.
static RESEAL_TRANSCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = tonumber(ARGV[1])
local now = redis.call('LRANGE', KEYS[1], 0, -1)
if #now ~= n then return 0 end
for i = 1, n do if now[i] ~= ARGV[1 + i] then return 0 end end
for i = 1, n do redis.call('LSET', KEYS[1], i - 1, ARGV[1 + n + i]) end
return 1",
    )
});

static RENEW_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0",
    )
});

static RELEASE_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0",
    )
});

impl RedisStore {
    pub(super) fn new(settings: RedisSettings) -> Self {
        Self {
            client: settings.client,
            connection: tokio::sync::OnceCell::new(),
            keys: settings.keys,
            lease: settings.lease,
            call_timeout: settings.call_timeout,
        }
    }

    /// The shared connection, made when first needed (and again after a failed first try); it
    /// reconnects by itself after Redis comes back.
    async fn connection(&self) -> Result<ConnectionManager, AppError> {
        self.connection_or_why().await.map_err(unavailable)
    }

    /// As [`RedisStore::connection`], with why not as a sentence (a refused connection, a TLS
    /// handshake that failed: which certificate, which protocol), never the URL.
    async fn connection_or_why(&self) -> Result<ConnectionManager, String> {
        let connect = || async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.call_timeout))
                .set_response_timeout(Some(self.call_timeout))
                .set_number_of_retries(1);
            ConnectionManager::new_with_config(self.client.clone(), config)
                .await
                .map_err(|e| format!("cannot connect: {e}"))
        };
        self.connection.get_or_try_init(connect).await.cloned()
    }

    /// Runs one command or script invocation with the call timeout, timed and counted in the
    /// metrics.
    async fn call<T: FromRedisValue>(&self, command: Command<'_>) -> Result<T, AppError> {
        let started = Instant::now();
        let result = self.call_untimed(command).await;
        ::metrics::histogram!(crate::metric_names::STORE_SECONDS).record(crate::metric_names::seconds_since(started));
        if result.is_err() {
            ::metrics::counter!(crate::metric_names::STORE_ERRORS).increment(1);
        }
        result
    }

    async fn call_untimed<T: FromRedisValue>(&self, command: Command<'_>) -> Result<T, AppError> {
        let mut connection = self.connection().await?;
        let request = async {
            match command {
                Command::Plain(cmd) => cmd.query_async(&mut connection).await,
                Command::Script(invocation) => invocation.invoke_async(&mut connection).await,
                Command::Pipeline(pipe) => pipe.query_async(&mut connection).await,
            }
        };
        match tokio::time::timeout(self.call_timeout, request).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(unavailable("no answer within the call timeout")),
        }
    }

    /// The key of one thing of `kind` for the cookie id `id`: a hash, never the id itself.
    fn key(kind: &str, id: &str) -> String {
        let digest = Sha256::digest(id.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}:{kind}:{hex}")
    }

    fn seal_record(&self, id: &str, record: &SessionRecord) -> Result<Vec<u8>, AppError> {
        let json = serde_json::to_vec(&StoredRecord::from(record)).map_err(|_| AppError::new(ErrorCode::Internal))?;
        Ok(self.keys.seal(&context("session", id), &json))
    }

    pub(super) async fn create(
        &self,
        limits: &Limits,
        id: &str,
        record: &SessionRecord,
        now: u64,
    ) -> Result<(), AppError> {
        let sealed = self.seal_record(id, record)?;
        let mut invocation = CREATE_SESSION.prepare_invoke();
        invocation
            .key(Self::key("session", id))
            .key(format!("{PREFIX}:sessions"))
            .arg(now)
            .arg(limits.max_sessions)
            .arg(Self::key("session", id))
            .arg(sealed)
            .arg(limits.session_ttl(now, now))
            .arg(record.version);
        let created: i64 = self.call(Command::Script(&invocation)).await?;
        if created == 0 {
            return Err(AppError::new(ErrorCode::Overloaded));
        }
        Ok(())
    }

    /// The session's record: one `HMGET`. It is marked used (its keys' expiry pushed back) only
    /// when its last mark is older than a hundredth of the idle lifetime, so the idle lifetime
    /// holds to within 1% and most calls cost Redis one read. The absolute lifetime counts from
    /// the sign-in time sealed inside the record. A record opened with the previous key is
    /// sealed again with the current one (with its transcript).
    pub(super) async fn load(&self, limits: &Limits, id: &str, now: u64) -> Result<Option<SessionRecord>, AppError> {
        let key = Self::key("session", id);
        let found: (Option<String>, Option<String>, Option<Vec<u8>>, Option<String>) = self
            .call(Command::Plain(
                redis::cmd("HMGET")
                    .arg(&key)
                    .arg("v")
                    .arg("touched")
                    .arg("record")
                    .arg("created"),
            ))
            .await?;
        let (Some(version), Some(touched), Some(sealed), legacy_created) = found else {
            return Ok(None);
        };
        let number = |text: String| text.parse::<u64>().ok();
        let (Some(version), Some(touched)) = (number(version), number(touched)) else {
            tracing::warn!("session store: a session's fields are not numbers (tampered); refused");
            return Ok(None);
        };
        let Some((record, stale)) = self.open_record(id, version, &sealed, legacy_created.and_then(number)) else {
            return Ok(None);
        };
        let ttl = limits.session_ttl(record.created_at, now);
        if ttl == 0 {
            self.remove(id).await?;
            return Ok(None);
        }
        if now.saturating_sub(touched) >= (limits.session_idle_secs / 100).max(1) {
            let mut invocation = TOUCH_SESSION.prepare_invoke();
            invocation
                .key(&key)
                .key(Self::key("transcript", id))
                .key(format!("{PREFIX}:sessions"))
                .arg(now)
                .arg(ttl)
                .arg(&key);
            self.call::<i64>(Command::Script(&invocation)).await?;
        }
        if stale {
            self.reseal(id, &sealed, &record).await?;
        }
        Ok(Some(record))
    }

    /// The record if it opens under this id and says the version Redis has beside it, and
    /// whether it must be sealed again (opened with the previous key, or sealed before the
    /// sign-in time was inside: then `legacy_created` counts this once); anything else
    /// (tampered, truncated, swapped) is no session.
    fn open_record(
        &self,
        id: &str,
        version: u64,
        sealed: &[u8],
        legacy_created: Option<u64>,
    ) -> Option<(SessionRecord, bool)> {
        let opened = self.keys.open_noting_key(&context("session", id), sealed);
        let record = opened.and_then(|(json, key)| {
            let stored = serde_json::from_slice::<StoredRecord>(&json)
                .ok()
                .filter(|r| r.version == version)?;
            let stale = key == KeyUsed::Previous || stored.created.is_none();
            Some((stored.into_record(legacy_created)?, stale))
        });
        if record.is_none() {
            tracing::warn!("session store: a session record did not open (tampered, truncated or moved); refused");
        }
        record
    }

    /// Seals `record` (read as `sealed`) and its transcript again with the current key, unless
    /// a write came first (which sealed with the current key anyway).
    async fn reseal(&self, id: &str, sealed: &[u8], record: &SessionRecord) -> Result<(), AppError> {
        let mut invocation = RESEAL_SESSION.prepare_invoke();
        invocation
            .key(Self::key("session", id))
            .arg(sealed)
            .arg(self.seal_record(id, record)?);
        self.call::<i64>(Command::Script(&invocation)).await?;
        let read = self.transcript_sealed(id).await?;
        self.reseal_transcript(id, &read).await
    }

    /// A session's transcript as Redis holds it: the sealed entries, oldest first.
    async fn transcript_sealed(&self, id: &str) -> Result<Vec<Vec<u8>>, AppError> {
        self.call(Command::Plain(
            redis::cmd("LRANGE").arg(Self::key("transcript", id)).arg(0).arg(-1),
        ))
        .await
    }

    /// The entries of `read` (the transcript as just read) opened with the previous key, sealed
    /// again with the current one (the whole list in one step, if it is still the list read).
    async fn reseal_transcript(&self, id: &str, read: &[Vec<u8>]) -> Result<(), AppError> {
        let context = context("transcript", id);
        let mut stale = false;
        let resealed: Vec<Vec<u8>> = read
            .iter()
            .map(|sealed| match self.keys.open_noting_key(&context, sealed) {
                Some((plain, KeyUsed::Previous)) => {
                    stale = true;
                    self.keys.seal(&context, &plain)
                }
                _ => sealed.clone(),
            })
            .collect();
        if !stale {
            return Ok(());
        }
        let mut invocation = RESEAL_TRANSCRIPT.prepare_invoke();
        invocation.key(Self::key("transcript", id)).arg(read.len());
        for sealed in read.iter().chain(&resealed) {
            invocation.arg(sealed.as_slice());
        }
        self.call::<i64>(Command::Script(&invocation)).await?;
        Ok(())
    }

    pub(super) async fn replace(
        &self,
        id: &str,
        expected_version: u64,
        record: &SessionRecord,
    ) -> Result<bool, AppError> {
        let sealed = self.seal_record(id, record)?;
        let mut invocation = REPLACE_SESSION.prepare_invoke();
        invocation
            .key(Self::key("session", id))
            .arg(expected_version)
            .arg(record.version)
            .arg(sealed);
        let written: i64 = self.call(Command::Script(&invocation)).await?;
        Ok(written == 1)
    }

    pub(super) async fn remove(&self, id: &str) -> Result<(), AppError> {
        let key = Self::key("session", id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&key)
            .ignore()
            .del(Self::key("transcript", id))
            .ignore()
            .zrem(format!("{PREFIX}:sessions"), &key)
            .ignore();
        self.call::<()>(Command::Pipeline(&pipe)).await
    }

    /// Appends to a session's transcript and drops the oldest past the bound: `RPUSH`, `LTRIM`,
    /// `EXPIRE` in one pipeline (no script: an append is the commonest write). Entries are
    /// capped in size before they come here, so the count bounds the bytes too. An append that
    /// comes after its session was removed leaves a list that expires with the idle lifetime.
    pub(super) async fn record(&self, limits: &Limits, id: &str, entries: &[TranscriptEntry]) -> Result<(), AppError> {
        let key = Self::key("transcript", id);
        let mut pipe = redis::pipe();
        let push = pipe.cmd("RPUSH").arg(&key);
        for entry in entries {
            let json = serde_json::to_vec(entry).map_err(|_| AppError::new(ErrorCode::Internal))?;
            push.arg(self.keys.seal(&context("transcript", id), &json));
        }
        push.ignore()
            .cmd("LTRIM")
            .arg(&key)
            .arg(-isize::try_from(transcript::MAX_ENTRIES).unwrap_or(isize::MAX))
            .arg(-1)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(limits.session_idle_secs)
            .ignore();
        self.call::<()>(Command::Pipeline(&pipe)).await
    }

    pub(super) async fn transcript(&self, id: &str) -> Result<Vec<TranscriptEntry>, AppError> {
        let values = self.transcript_sealed(id).await?;
        let context = context("transcript", id);
        let mut stale = false;
        let entries = values
            .iter()
            .filter_map(|sealed| {
                let (json, key) = self.keys.open_noting_key(&context, sealed)?;
                stale |= key == KeyUsed::Previous;
                serde_json::from_slice(&json).ok()
            })
            .collect();
        if stale {
            self.reseal_transcript(id, &values).await?;
        }
        Ok(entries)
    }

    /// A `PING` within the call timeout, or why not as a sentence.
    pub(super) async fn ping(&self) -> Result<(), String> {
        let mut connection = self.connection_or_why().await?;
        let ping = redis::cmd("PING");
        match tokio::time::timeout(self.call_timeout, ping.query_async::<()>(&mut connection)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("PING failed: {e}")),
            Err(_) => Err("no answer to PING within the call timeout".to_owned()),
        }
    }

    pub(super) async fn count_attempts(&self, now: u64) -> Result<usize, AppError> {
        self.count_index(&format!("{PREFIX}:attempts"), now).await
    }

    pub(super) async fn count(&self, now: u64) -> Result<usize, AppError> {
        self.count_index(&format!("{PREFIX}:sessions"), now).await
    }

    /// The live members of an index (a sorted set by expiry), the expired ones dropped first.
    async fn count_index(&self, index: &str, now: u64) -> Result<usize, AppError> {
        let mut pipe = redis::pipe();
        pipe.atomic().zrembyscore(index, "-inf", now).ignore().zcard(index);
        let (count,): (usize,) = self.call(Command::Pipeline(&pipe)).await?;
        Ok(count)
    }

    /// `false`, writing nothing, when the attempts are at their limit.
    pub(super) async fn start_attempt(
        &self,
        limits: &Limits,
        id: &str,
        attempt: &Attempt,
        handoff: Handoff,
        now: u64,
    ) -> Result<bool, AppError> {
        let json = serde_json::to_vec(attempt).map_err(|_| AppError::new(ErrorCode::Internal))?;
        let key = Self::key("attempt", id);
        let mut invocation = START_ATTEMPT.prepare_invoke();
        invocation.key(&key).key(format!("{PREFIX}:attempts"));
        if handoff == Handoff::Armed {
            invocation.key(Self::key(HANDOFF, &attempt.state));
        }
        invocation
            .arg(now)
            .arg(limits.max_attempts)
            .arg(&key)
            .arg(limits.attempt_secs)
            .arg(self.keys.seal(&context("attempt", id), &json));
        let started: i64 = self.call(Command::Script(&invocation)).await?;
        Ok(started == 1)
    }

    pub(super) async fn attempt(&self, id: &str) -> Result<Option<Attempt>, AppError> {
        let sealed: Option<Vec<u8>> = self
            .call(Command::Plain(redis::cmd("GET").arg(Self::key("attempt", id))))
            .await?;
        Ok(sealed
            .and_then(|sealed| self.keys.open(&context("attempt", id), &sealed))
            .and_then(|json| serde_json::from_slice(&json).ok()))
    }

    /// Deletes the attempt and the hand-off slot it armed; `true` only for the one caller that
    /// deleted the attempt.
    pub(super) async fn remove_attempt(&self, id: &str, state: &str) -> Result<bool, AppError> {
        let key = Self::key("attempt", id);
        let mut invocation = REMOVE_ATTEMPT.prepare_invoke();
        invocation
            .key(&key)
            .key(format!("{PREFIX}:attempts"))
            .key(Self::key(HANDOFF, state))
            .arg(&key);
        let deleted: i64 = self.call(Command::Script(&invocation)).await?;
        Ok(deleted == 1)
    }

    /// Keeps which session the attempt `attempt_id` ended in, sealed, for `secs`.
    pub(super) async fn finish_attempt(&self, attempt_id: &str, session_id: &str, secs: u64) -> Result<(), AppError> {
        let sealed = self.keys.seal(&context("finished", attempt_id), session_id.as_bytes());
        let mut set = redis::cmd("SET");
        set.arg(Self::key("finished", attempt_id))
            .arg(sealed)
            .arg("EX")
            .arg(secs);
        self.call::<()>(Command::Plain(&set)).await
    }

    /// The session the attempt `attempt_id` ended in, once (`GETDEL`).
    pub(super) async fn take_finished_attempt(&self, attempt_id: &str) -> Result<Option<String>, AppError> {
        let sealed: Option<Vec<u8>> = self
            .call(Command::Plain(
                redis::cmd("GETDEL").arg(Self::key("finished", attempt_id)),
            ))
            .await?;
        Ok(sealed
            .and_then(|sealed| self.keys.open(&context("finished", attempt_id), &sealed))
            .and_then(|plain| String::from_utf8(plain).ok()))
    }

    /// The slot as it was before this delivery ([`Slot::Pending`]: this callback is kept).
    pub(super) async fn deliver_handoff(&self, state: &str, callback: &str) -> Result<Slot, AppError> {
        let mut invocation = DELIVER_HANDOFF.prepare_invoke();
        invocation
            .key(Self::key(HANDOFF, state))
            .arg(self.keys.seal(&context("handoff", state), callback.as_bytes()))
            .arg(contract::wire::HANDOFF_SECS)
            .arg(SLOT_CONFLICT);
        let before: Option<Vec<u8>> = self.call(Command::Script(&invocation)).await?;
        Ok(self.slot(state, before))
    }

    /// The slot as it was; a delivered callback is taken once.
    pub(super) async fn take_handoff(&self, state: &str, attempt_id: &str) -> Result<Slot, AppError> {
        let mut invocation = TAKE_HANDOFF.prepare_invoke();
        invocation
            .key(Self::key(HANDOFF, state))
            .arg(SLOT_CONFLICT)
            .arg(Self::key("attempt", attempt_id));
        let value: Option<Vec<u8>> = self.call(Command::Script(&invocation)).await?;
        Ok(self.slot(state, value))
    }

    /// What a slot's value says. A callback that does not open (tampered) is no callback: the
    /// slot counts as spent.
    fn slot(&self, state: &str, value: Option<Vec<u8>>) -> Slot {
        match value {
            None => Slot::Missing,
            Some(value) if value == SLOT_PENDING.as_bytes() => Slot::Pending,
            Some(value) if value == SLOT_CONFLICT.as_bytes() => Slot::Conflict,
            Some(sealed) => self
                .keys
                .open(&context("handoff", state), &sealed)
                .and_then(|plain| String::from_utf8(plain).ok())
                .map_or(Slot::Conflict, Slot::Delivered),
        }
    }

    /// `SET NX PX` with a random owner, tried every [`LEASE_POLL`] until `wait` is over; between
    /// tries, the record is read: one that moved on from `seen_version` with no refresh in flight
    /// ends the wait.
    pub(super) async fn lease(
        &self,
        limits: &Limits,
        id: &str,
        seen_version: u64,
        now: u64,
        wait: Duration,
    ) -> Result<LeaseOutcome<RedisLease>, AppError> {
        let key = Self::key("lease", id);
        let owner = random_id()?;
        let deadline = Instant::now() + wait;
        loop {
            let taken: Option<String> = self
                .call(Command::Plain(
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(&owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(self.lease_ms()),
                ))
                .await?;
            if taken.is_some() {
                return Ok(LeaseOutcome::Acquired(RedisLease { key, owner }));
            }
            let record = self
                .load(limits, id, now)
                .await?
                .ok_or_else(|| AppError::new(ErrorCode::NotSignedIn))?;
            if record.version != seen_version && !record.refresh_in_flight {
                return Ok(LeaseOutcome::Changed(record));
            }
            if Instant::now() >= deadline {
                return Err(retry_soon(AppError::with_message(
                    ErrorCode::SessionStoreUnavailable,
                    "Another replica is still refreshing this session's tokens; try again in a moment.",
                )));
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
    }

    fn lease_ms(&self) -> u64 {
        u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX)
    }

    /// Extends the lease every third of its lifetime while its holder still owns it; runs until
    /// dropped. A failed renewal is logged and tried again: the holder cannot take back a
    /// refresh token it is presenting.
    pub(super) async fn renew_forever(&self, lease: &RedisLease) -> std::convert::Infallible {
        loop {
            tokio::time::sleep(self.lease / 3).await;
            let mut invocation = RENEW_LEASE.prepare_invoke();
            invocation.key(&lease.key).arg(&lease.owner).arg(self.lease_ms());
            match self.call::<i64>(Command::Script(&invocation)).await {
                Ok(1) => {}
                Ok(_) => tracing::warn!("session store: a refresh lease lapsed before it was renewed"),
                Err(e) => tracing::warn!("session store: a refresh lease was not renewed: {e}"),
            }
        }
    }

    pub(super) async fn release(&self, lease: RedisLease) {
        let mut invocation = RELEASE_LEASE.prepare_invoke();
        invocation.key(&lease.key).arg(&lease.owner);
        if let Err(e) = self.call::<i64>(Command::Script(&invocation)).await {
            tracing::warn!("session store: a refresh lease was not released (it lapses by itself): {e}");
        }
    }
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

/// One request to Redis.
enum Command<'a> {
    Plain(&'a redis::Cmd),
    Script(&'a redis::ScriptInvocation<'a>),
    Pipeline(&'a redis::Pipeline),
}
