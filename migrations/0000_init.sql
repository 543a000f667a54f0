CREATE TYPE "public"."event_type" AS ENUM('follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"workspace_id" integer NOT NULL,
	"key_id" text NOT NULL,
	"secret_hash" "bytea" NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp(6) with time zone,
	CONSTRAINT "api_keys_workspace_id_key_id_pk" PRIMARY KEY("workspace_id","key_id")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"workspace_id" integer NOT NULL,
	"event_id" text NOT NULL,
	"type" "event_type" NOT NULL,
	"actor" text NOT NULL,
	"target" text,
	"post" text,
	"occurred_at" timestamp(6) with time zone NOT NULL,
	"has_link" boolean NOT NULL,
	"is_question" boolean NOT NULL,
	"fingerprint" "bytea",
	"content_hash" "bytea" NOT NULL,
	"ingested_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_workspace_id_event_id_pk" PRIMARY KEY("workspace_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "relationships" (
	"workspace_id" integer NOT NULL,
	"account" text NOT NULL,
	"other" text NOT NULL,
	"out_follow_at" timestamp(6) with time zone,
	"out_follows" boolean DEFAULT false NOT NULL,
	"in_follow_at" timestamp(6) with time zone,
	"in_follows" boolean DEFAULT false NOT NULL,
	"out_like" integer DEFAULT 0 NOT NULL,
	"out_reply" integer DEFAULT 0 NOT NULL,
	"out_mention" integer DEFAULT 0 NOT NULL,
	"out_repost" integer DEFAULT 0 NOT NULL,
	"in_like" integer DEFAULT 0 NOT NULL,
	"in_reply" integer DEFAULT 0 NOT NULL,
	"in_mention" integer DEFAULT 0 NOT NULL,
	"in_repost" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "relationships_workspace_id_account_other_pk" PRIMARY KEY("workspace_id","account","other")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "workspaces_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"created_at" timestamp(6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workspaces_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_id" ON "api_keys" USING btree ("key_id");--> statement-breakpoint
CREATE INDEX "events_actor_time" ON "events" USING btree ("workspace_id","actor","occurred_at");--> statement-breakpoint
CREATE INDEX "events_target_time" ON "events" USING btree ("workspace_id","target","occurred_at") WHERE "events"."target" IS NOT NULL;