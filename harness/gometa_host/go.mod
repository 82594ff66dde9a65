module github.com/gometa-conformance/gometa-host

go 1.23

require github.com/couchbase/gometa v0.0.0-20220803182802-05cb6b2e299f

require (
	github.com/couchbase/indexing v0.0.0-00010101000000-000000000000 // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

// gometa's common and protocol packages import
// github.com/couchbase/indexing/secondary/security; see README.md.
replace github.com/couchbase/indexing => ./standins/indexing
