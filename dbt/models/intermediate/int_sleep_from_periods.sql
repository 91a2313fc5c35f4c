{{
    config(
        materialized=keyed_materialization(),
        unique_key=['user_id', 'sleep_date', 'source_format'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook='{{ record_horizon() }}',
        post_hook='{{ analyze_if_rebuilt() }}',
        indexes=[
            {'columns': ['user_id', 'sleep_date']},
            {'columns': ['dbt_write_id']},
        ],
    )
}}

{#-
    Sleep periods (one row per sleep or nap: WHOOP, Samsung, Withings) as daily sleep sources
    in stg_sleep's shape: per user, source and local date of waking, the periods ending that
    day added up (a WHOOP nap counts on its wake date beside the night).

    - A re-export repeats earlier periods (Samsung's older files hold every earlier row
      again): per user, source and start time the newest load wins, exact duplicates
      collapse.
    - A period is left out when it is not plausible - no time in bed, or more than 24 hours
      in bed (a Samsung record starting at time zero) - or when a longer period of the same
      source overlaps it on the same day (a phone and a watch recording one night): the
      longest counts, never both. periods_left_out counts them.

    Incremental: the days of the periods written since its last build (and every other day
    those periods had in older loads), recomputed from all of their periods; a day whose
    periods are all left out keeps a row without minutes.
-#}

{%- set horizon = previous_horizon() %}

with

periods as {{ inlined() }} (

    {{ union_models(
        [
            'stg_whoop__sleeps',
            'stg_samsung__sleep',
            'stg_samsung__legacy_sleep',
            'stg_withings__sleep',
        ],
        columns={
            'user_id': dbt.type_string(),
            'source_format': dbt.type_string(),
            'load_id': dbt.type_bigint(),
            'source_row_number': dbt.type_bigint(),
            'sleep_start_at': 'timestamp',
            'sleep_end_at': 'timestamp',
            'sleep_date': 'date',
            'minutes_asleep': dbt.type_int(),
            'minutes_in_bed': dbt.type_int(),
            'is_nap': 'boolean',
            'dbt_write_id': dbt.type_bigint(),
        },
    ) }}

),

keyed as {{ inlined() }} (

    -- periods without a user, a start or an end have no day; the staging tests report them
    select * from periods
    where user_id is not null
      and sleep_start_at is not null
      and sleep_end_at is not null

),

{% if is_incremental() %}

changed_periods as (

    select distinct user_id, source_format, sleep_start_at
    from keyed
    where dbt_write_id >= {{ horizon }}

),

affected_days as (

    -- every day a changed period has, in any load (a re-export may move its end)
    select distinct keyed.user_id, keyed.source_format, keyed.sleep_date
    from keyed
    inner join changed_periods
        on keyed.user_id = changed_periods.user_id
        and keyed.source_format = changed_periods.source_format
        and keyed.sleep_start_at = changed_periods.sleep_start_at

),

periods_in_scope as (

    -- every period with a row on an affected day, with all of its loads
    select distinct keyed.user_id, keyed.source_format, keyed.sleep_start_at
    from keyed
    inner join affected_days
        on keyed.user_id = affected_days.user_id
        and keyed.source_format = affected_days.source_format
        and keyed.sleep_date = affected_days.sleep_date

),

in_scope as (

    select keyed.*
    from keyed
    inner join periods_in_scope
        on keyed.user_id = periods_in_scope.user_id
        and keyed.source_format = periods_in_scope.source_format
        and keyed.sleep_start_at = periods_in_scope.sleep_start_at

),

{% else %}

affected_days as (

    select distinct user_id, source_format, sleep_date
    from keyed

),

in_scope as (

    select * from keyed

),

{% endif %}

newest as (

    {{ newest_load_rows(
        'in_scope',
        key_columns=['user_id', 'source_format', 'sleep_start_at'],
        value_columns=['sleep_end_at', 'minutes_asleep', 'minutes_in_bed', 'is_nap'],
    ) }}

),

checked as (

    select
        newest.*,
        coalesce(minutes_in_bed between 1 and 1440, false) as is_plausible
    from newest

),

overlapped as (

    -- a period that a longer one of the same source and day overlaps (ties: the earlier
    -- start, then the earlier line, wins)
    select distinct shorter.load_id, shorter.source_row_number
    from checked as shorter
    inner join checked as longer
        on shorter.user_id = longer.user_id
        and shorter.source_format = longer.source_format
        and shorter.sleep_date = longer.sleep_date
        and longer.sleep_start_at < shorter.sleep_end_at
        and shorter.sleep_start_at < longer.sleep_end_at
        and (
            longer.minutes_in_bed > shorter.minutes_in_bed
            or (
                longer.minutes_in_bed = shorter.minutes_in_bed
                and (
                    longer.sleep_start_at < shorter.sleep_start_at
                    or (
                        longer.sleep_start_at = shorter.sleep_start_at
                        and (
                            longer.load_id < shorter.load_id
                            or (
                                longer.load_id = shorter.load_id
                                and longer.source_row_number < shorter.source_row_number
                            )
                        )
                    )
                )
            )
        )
    where shorter.is_plausible
      and longer.is_plausible

),

counted as (

    select
        checked.*,
        checked.is_plausible and overlapped.load_id is null as counts
    from checked
    left join overlapped
        on checked.load_id = overlapped.load_id
        and checked.source_row_number = overlapped.source_row_number

),

daily as (

    select
        -- ids
        affected_days.user_id,
        affected_days.source_format,
        max(counted.load_id) as load_id,
        cast(null as {{ dbt.type_bigint() }}) as source_row_number,

        -- dates
        affected_days.sleep_date,

        -- sleep
        cast(coalesce(sum(case when counted.counts then 1 else 0 end), 0) as {{ dbt.type_int() }})
            as sleep_records,
        cast(sum(case when counted.counts then counted.minutes_asleep end) as {{ dbt.type_int() }})
            as minutes_asleep,
        cast(sum(case when counted.counts then counted.minutes_in_bed end) as {{ dbt.type_int() }})
            as minutes_in_bed,
        cast(
            coalesce(sum(case when counted.counts = false then 1 else 0 end), 0)
            as {{ dbt.type_int() }}
        ) as periods_left_out,

        -- lineage
        {{ write_id() }} as dbt_write_id,
        {{ run_timestamp() }} as dbt_loaded_at

    from affected_days
    left join counted
        on affected_days.user_id = counted.user_id
        and affected_days.source_format = counted.source_format
        and affected_days.sleep_date = counted.sleep_date
    group by affected_days.user_id, affected_days.source_format, affected_days.sleep_date

)

select * from daily
