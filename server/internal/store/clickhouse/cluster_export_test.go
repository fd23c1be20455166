package clickhouse

var (
	QualifyViews  = qualifyViews
	QuorumInsert  = quorumInsert
	DDLTaskTimout = ddlTaskTimeout
	FsyncPending  = fsyncPending
)
