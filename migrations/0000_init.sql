CREATE TYPE "public"."event_type" AS ENUM('follow', 'unfollow', 'like', 'reply', 'mention', 'repost', 'post');--> statement-breakpoint
CREATE TABLE "account_stats" (
	"workspace_id" integer NOT NULL,
	"account" text NOT NULL,
	"followers" bigint DEFAULT 0 NOT NULL,
	"following" bigint DEFAULT 0 NOT NULL,
	"mutual" bigint DEFAULT 0 NOT NULL,
	"partners_engaged" bigint DEFAULT 0 NOT NULL,
	"partners_engaging" bigint DEFAULT 0 NOT NULL,
	"partners_mutual" bigint DEFAULT 0 NOT NULL,
	"exchange_min" bigint DEFAULT 0 NOT NULL,
	"interactions_sent" bigint DEFAULT 0 NOT NULL,
	"received_like" bigint DEFAULT 0 NOT NULL,
	"received_reply" bigint DEFAULT 0 NOT NULL,
	"received_mention" bigint DEFAULT 0 NOT NULL,
	"received_repost" bigint DEFAULT 0 NOT NULL,
	"engaged_followers" bigint DEFAULT 0 NOT NULL,
	"liked_accounts" bigint DEFAULT 0 NOT NULL,
	"like_for_like_accounts" bigint DEFAULT 0 NOT NULL,
	"conversations_received" bigint DEFAULT 0 NOT NULL,
	"conversations_answered" bigint DEFAULT 0 NOT NULL,
	"posts" bigint DEFAULT 0 NOT NULL,
	"link_posts" bigint DEFAULT 0 NOT NULL,
	"question_posts" bigint DEFAULT 0 NOT NULL,
	"duplicate_posts" bigint DEFAULT 0 NOT NULL,
	"follows" bigint DEFAULT 0 NOT NULL,
	"quick_unfollows" bigint DEFAULT 0 NOT NULL,
	"peak_daily_follows" bigint DEFAULT 0 NOT NULL,
	"spam_score" double precision DEFAULT 0 NOT NULL,
	CONSTRAINT "account_stats_workspace_id_account_pk" PRIMARY KEY("workspace_id","account")
);
--> statement-breakpoint
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
CREATE TABLE "follow_days" (
	"workspace_id" integer NOT NULL,
	"account" text NOT NULL,
	"day" date NOT NULL,
	"follows" integer NOT NULL,
	CONSTRAINT "follow_days_workspace_id_account_day_pk" PRIMARY KEY("workspace_id","account","day")
);
--> statement-breakpoint
CREATE TABLE "post_fingerprints" (
	"workspace_id" integer NOT NULL,
	"account" text NOT NULL,
	"fingerprint" "bytea" NOT NULL,
	"posts" integer NOT NULL,
	CONSTRAINT "post_fingerprints_workspace_id_account_fingerprint_pk" PRIMARY KEY("workspace_id","account","fingerprint")
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
	"prev_out_follows" boolean DEFAULT false NOT NULL,
	"prev_in_follows" boolean DEFAULT false NOT NULL,
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
CREATE TABLE "unfollow_delays" (
	"workspace_id" integer NOT NULL,
	"account" text NOT NULL,
	"hours" smallint NOT NULL,
	"follows" integer NOT NULL,
	CONSTRAINT "unfollow_delays_workspace_id_account_hours_pk" PRIMARY KEY("workspace_id","account","hours")
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
CREATE INDEX "account_stats_spam" ON "account_stats" USING btree ("workspace_id","spam_score","account");--> statement-breakpoint
CREATE INDEX "account_stats_followers" ON "account_stats" USING btree ("workspace_id","followers","account");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_id" ON "api_keys" USING btree ("key_id");--> statement-breakpoint
CREATE INDEX "events_actor_time" ON "events" USING btree ("workspace_id","actor","occurred_at");--> statement-breakpoint
CREATE INDEX "events_target_time" ON "events" USING btree ("workspace_id","target","occurred_at") WHERE "events"."target" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "relationships_following" ON "relationships" USING btree ("workspace_id","account","out_follow_at") WHERE "relationships"."out_follows";--> statement-breakpoint
CREATE INDEX "relationships_followers" ON "relationships" USING btree ("workspace_id","account","in_follow_at") WHERE "relationships"."in_follows";