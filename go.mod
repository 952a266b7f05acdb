module github.com/tallyhq/tally

go 1.26.8

require (
	github.com/mssola/useragent v1.0.0
	github.com/x-way/crawlerdetect v0.2.31
)

require (
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
