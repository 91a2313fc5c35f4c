{#-
    What the staging models of the single-user exports (Google Fit, Oura, WHOOP, Samsung,
    Withings, Garmin) share, and the few vendor code tables (docs/formats.md).
-#}

{#-
    The rows of a single-user format's raw table that this staging model has not staged yet,
    each with its user: the file's folder or `--user-id`, kept once per load in
    ops.file_loads.user_id_hint (`_user_id_hint` here).
-#}
{% macro single_user_rows(table, source_format) -%}
    select
        raw_rows.*,
        loads.user_id_hint as _user_id_hint
    from {{ source('raw', table) }} as raw_rows
    inner join {{ source('ops', 'file_loads') }} as loads
        on raw_rows._load_id = loads.load_id
        and loads.source_format = '{{ source_format }}'
    where {{ new_loads_filter('raw_rows._load_id', source_format) }}
{%- endmacro %}

{#-
    Samsung Health's exercise_type codes: the two its "Predefined Exercise Type" page
    (developer.samsung.com) names that most workouts use; any other code reads
    `samsung exercise <code>` (its meaning is in that table), and 0 (a custom type) the
    custom name when there is one.
-#}
{% macro samsung_exercise_type(code, custom_type) -%}
    case {{ code }}
        when 0 then coalesce({{ custom_type }}, 'custom')
        when 1001 then 'Walking'
        when 1002 then 'Running'
        else concat('samsung exercise ', cast({{ code }} as {{ dbt.type_string() }}))
    end
{%- endmacro %}

{#-
    Garmin distance in km. Garmin writes distances in the account's display units without
    naming them: km (var garmin_distance_unit 'km', the default) or statute miles ('mi'); a
    swim is in metres, or yards with statute units.
-#}
{% macro garmin_distance_km(distance, activity_type) -%}
    {%- set statute = var('garmin_distance_unit', 'km') == 'mi' -%}
    case
        when lower({{ activity_type }}) like '%swim%' or lower({{ activity_type }}) like '%svøm%'
            then {{ yards_to_km(distance) if statute else meters_to_km(distance) }}
        else {{ miles_to_km(distance) if statute else distance }}
    end
{%- endmacro %}
