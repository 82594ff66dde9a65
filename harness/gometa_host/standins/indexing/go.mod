// Stand-in for github.com/couchbase/indexing. gometa's common and protocol
// packages import only secondary/security from that monorepo; the real
// package drags in cbauth and the indexing tree. This module provides the
// three functions gometa calls, with the behaviour the real package has
// when TLS is off (the state it is in until an embedder initialises it).
module github.com/couchbase/indexing

go 1.23
