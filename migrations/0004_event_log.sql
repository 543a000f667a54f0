CREATE TABLE "pending_events" (
	"workspace_id" integer NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "pending_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" text NOT NULL,
	"acknowledged_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pending_events_workspace_id_seq_pk" PRIMARY KEY("workspace_id","seq")
);
--> statement-breakpoint
CREATE TABLE "projections" (
	"workspace_id" integer PRIMARY KEY NOT NULL,
	"projected_events" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "pending_events_event" ON "pending_events" USING btree ("workspace_id","event_id");