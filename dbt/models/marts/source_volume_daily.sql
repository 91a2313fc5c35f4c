{{
    config(
        materialized='table',
        post_hook='{{ analyze_if_rebuilt() }}',
    )
}}

{#-
    One row per source and local date: the records every source holds for the day
    (int_source_rows_daily, each at its own grain), from the source's first day to the last
    day any source has data - a day without records is a row with 0, so the day a source
    went quiet is there to be flagged.

    The anomaly rule, per source: the day's records against the previous
    var('volume_anomaly_window_days') (7) days, zeros included. A day is an anomaly when its
    distance from their median is more than var('volume_anomaly_threshold') (30%) of that
    median - the seed's origin's size of a jump - and more than
    var('volume_anomaly_mad_multiplier') (3) robust standard deviations of the window
    (1.4826 × its median absolute deviation, MAD), so a source that always swings (the
    events of a handful of users) is judged against its own swing; a steady source (MAD 0)
    by the 30% alone. Judged once the source has a whole window of history before the day
    and a median of at least var('volume_anomaly_min_median_rows') (10) records (a handful
    of weight logs swings by chance). The median and MAD rather than the previous days'
    mean (the origin's rule): one odd day - a re-export doubling a day, a day the sync
    failed - moves a mean enough to flag the normal days after it, and a median not at all
    (up to three odd days in seven).

    Rebuilt whole on every run: one row per source and day (thousands of rows) from the
    per-user counts; a changed day moves the flags of the days after it, and the counts of a
    participant removed by `wearable forget` leave with the next build.
-#}

{%- set window_days = var('volume_anomaly_window_days') %}
{#- The median of n sorted values is the mean of the values ranked these two (one when n is odd). -#}
{%- set lower_median_rank = (window_days + 1) // 2 %}
{%- set upper_median_rank = window_days // 2 + 1 %}

with

source_rows as (

    select * from {{ ref('int_source_rows_daily') }}

),

per_day as (

    select
        source_format,
        volume_date,
        sum(source_rows) as source_rows,
        count(*) as users
    from source_rows
    group by source_format, volume_date

),

sources as (

    select
        source_format,
        min(volume_date) as first_date
    from per_day
    group by source_format

),

last_day as (

    select max(volume_date) as last_date
    from per_day

),

-- 1 … 16,384: 44 years of days, more than any study runs
day_numbers as (

    {{ dbt.generate_series(16384) }}

),

calendar as (

    select
        sources.source_format,
        {{ dbt.dateadd(
            'day',
            'cast(day_numbers.generated_number as ' ~ dbt.type_int() ~ ') - 1',
            'sources.first_date',
        ) }} as volume_date
    from sources
    cross join last_day
    inner join day_numbers
        on day_numbers.generated_number
            <= {{ dbt.datediff('sources.first_date', 'last_day.last_date', 'day') }} + 1

),

daily as (

    select
        calendar.source_format,
        cast(calendar.volume_date as date) as volume_date,
        coalesce(per_day.source_rows, 0) as source_rows,
        coalesce(per_day.users, 0) as users
    from calendar
    left join per_day
        on calendar.source_format = per_day.source_format
        and cast(calendar.volume_date as date) = per_day.volume_date

),

history as (

    select
        current_day.source_format,
        current_day.volume_date,
        earlier_day.source_rows as earlier_rows,
        row_number() over (
            partition by current_day.source_format, current_day.volume_date
            order by earlier_day.source_rows
        ) as rows_rank,
        count(*) over (
            partition by current_day.source_format, current_day.volume_date
        ) as history_days
    from daily as current_day
    inner join daily as earlier_day
        on earlier_day.source_format = current_day.source_format
        and earlier_day.volume_date
            >= {{ dbt.dateadd('day', -window_days, 'current_day.volume_date') }}
        and earlier_day.volume_date < current_day.volume_date

),

window_median as (

    select
        source_format,
        volume_date,
        max(history_days) as history_days,
        avg(
            case
                when rows_rank in ({{ lower_median_rank }}, {{ upper_median_rank }})
                    then earlier_rows
            end
        ) as median_rows
    from history
    group by source_format, volume_date

),

-- how far the window's days lie from its median: their median is the window's MAD
spread as (

    select
        history.source_format,
        history.volume_date,
        row_number() over (
            partition by history.source_format, history.volume_date
            order by abs(history.earlier_rows - window_median.median_rows)
        ) as spread_rank,
        abs(history.earlier_rows - window_median.median_rows) as distance
    from history
    inner join window_median
        on history.source_format = window_median.source_format
        and history.volume_date = window_median.volume_date

),

window_spread as (

    select
        source_format,
        volume_date,
        avg(
            case
                when spread_rank in ({{ lower_median_rank }}, {{ upper_median_rank }})
                    then distance
            end
        ) as mad_rows
    from spread
    group by source_format, volume_date

),

judged as (

    select
        daily.source_format,
        daily.volume_date,
        daily.source_rows,
        daily.users,
        coalesce(window_median.history_days, 0) as history_days,
        case
            when window_median.history_days = {{ window_days }} then window_median.median_rows
        end as median_rows,
        case
            when window_median.history_days = {{ window_days }} then window_spread.mad_rows
        end as mad_rows
    from daily
    left join window_median
        on daily.source_format = window_median.source_format
        and daily.volume_date = window_median.volume_date
    left join window_spread
        on daily.source_format = window_spread.source_format
        and daily.volume_date = window_spread.volume_date

),

final as (

    select
        -- ids
        cast(source_format as {{ dbt.type_string() }}) as source_format,
        cast(volume_date as date) as volume_date,

        -- volume
        cast(source_rows as {{ dbt.type_bigint() }}) as source_rows,
        cast(users as {{ dbt.type_int() }}) as users,

        -- anomaly rule
        cast(history_days as {{ dbt.type_int() }}) as history_days,
        cast(round(median_rows, 1) as numeric(14, 1)) as trailing_median_rows,
        cast(round(mad_rows, 1) as numeric(14, 1)) as trailing_mad_rows,
        cast(
            case
                when median_rows > 0
                    then round(100.0 * (source_rows - median_rows) / median_rows, 1)
            end as numeric(10, 1)
        ) as deviation_pct,
        cast(
            coalesce(
                median_rows >= {{ var('volume_anomaly_min_median_rows') }}
                and abs(source_rows - median_rows)
                    > {{ var('volume_anomaly_threshold') }} * median_rows
                -- 1.4826 × MAD estimates a standard deviation, robustly
                and abs(source_rows - median_rows)
                    > {{ var('volume_anomaly_mad_multiplier') }} * 1.4826 * mad_rows,
                false
            ) as boolean
        ) as is_anomaly,

        -- lineage
        {{ run_timestamp() }} as dbt_updated_at

    from judged

)

select * from final
