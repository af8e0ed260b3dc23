-- Sage 500 emulator: the API procedures, in PL/pgSQL, honouring the vendor's calling convention
-- (BACKOFFICE.md 4.1): positional (@_oContinue OUTPUT, @_iCancel, @_iSessionKey, @_iCompanyID,
-- @_iRptOption, @_iPrintWarnings, @_iUseStageTable, @_oRecsProcessed OUTPUT, @_oFailedRecs OUTPUT,
-- @_oTotalRecs OUTPUT, @_oRetVal OUTPUT); OUTPUT parameters are INOUT here. Each call processes at most
-- MaxRowsPerRun staged headers (zEmulatorSetting, default 1 like the vendor's) and sets _oContinue = 1
-- while rows remain. _oRetVal: 0 unknown error, 1 success, 2 failure, 3 parameter error.
-- The vendor's smallint flags are int here so that the driver's integer parameters bind without casts.

CREATE OR REPLACE PROCEDURE spGetNextSurrogateKey(_iTableName varchar, INOUT _oNewKey int)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tciSurrogateKey AS k (TableName, NextKey) VALUES (_iTableName, 2)
    ON CONFLICT (TableName) DO UPDATE SET NextKey = k.NextKey + 1
    RETURNING k.NextKey - 1 INTO _oNewKey;
END $$;

-- One tdmMigrationLogWrk row, if the report option asks for rows of this status
-- (0 all, 1 none, 2 good only, 3 bad only).
CREATE OR REPLACE FUNCTION zMigrationLog(_session int, _rpt int, _status int, _entity varchar,
                                         _column varchar, _value varchar, _comment varchar)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF _rpt = 0 OR (_rpt = 2 AND _status IN (0, 3)) OR (_rpt = 3 AND _status IN (1, 2)) THEN
        INSERT INTO tdmMigrationLogWrk (ColumnID, ColumnValue, Comment, EntityID, Status, SessionKey)
        VALUES (_column, left(coalesce(_value, ''), 100), left(_comment, 255), coalesce(_entity, ''), _status, _session);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION zMaxRowsPerRun() RETURNS int LANGUAGE sql AS $$
    SELECT coalesce((SELECT SettingValue::int FROM zEmulatorSetting WHERE SettingName = 'MaxRowsPerRun'), 1)
$$;

-- Moves pending decrease (allocation) on an item's bins in a warehouse: up fills bins that still have
-- free stock, the rest lands on the first bin; down releases from bins holding allocations.
-- Bins flagged ExclFromAvail are never allocated from.
CREATE OR REPLACE FUNCTION zMovePendingDecrease(_item int, _whse int, _qty numeric)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b record;
    take numeric;
    todo numeric := abs(_qty);
BEGIN
    IF _qty > 0 THEN
        FOR b IN SELECT bi.WhseBinKey, bi.QtyOnHand - bi.PendQtyDecrease AS free
                 FROM timWhseBinInvt bi JOIN timWhseBin wb ON wb.WhseBinKey = bi.WhseBinKey
                 WHERE bi.ItemKey = _item AND wb.WhseKey = _whse AND wb.ExclFromAvail = 0
                 ORDER BY bi.WhseBinKey FOR UPDATE OF bi LOOP
            EXIT WHEN todo <= 0;
            take := least(todo, greatest(b.free, 0));
            UPDATE timWhseBinInvt SET PendQtyDecrease = PendQtyDecrease + take
            WHERE ItemKey = _item AND WhseBinKey = b.WhseBinKey;
            todo := todo - take;
        END LOOP;
        IF todo > 0 THEN  -- short: over-allocate the first bin (available goes negative, as in Sage)
            UPDATE timWhseBinInvt SET PendQtyDecrease = PendQtyDecrease + todo
            WHERE ItemKey = _item AND WhseBinKey = (
                SELECT min(bi.WhseBinKey) FROM timWhseBinInvt bi JOIN timWhseBin wb ON wb.WhseBinKey = bi.WhseBinKey
                WHERE bi.ItemKey = _item AND wb.WhseKey = _whse AND wb.ExclFromAvail = 0);
        END IF;
    ELSE
        FOR b IN SELECT bi.WhseBinKey, bi.PendQtyDecrease AS held
                 FROM timWhseBinInvt bi JOIN timWhseBin wb ON wb.WhseBinKey = bi.WhseBinKey
                 WHERE bi.ItemKey = _item AND wb.WhseKey = _whse AND bi.PendQtyDecrease > 0
                 ORDER BY bi.WhseBinKey FOR UPDATE OF bi LOOP
            EXIT WHEN todo <= 0;
            take := least(todo, b.held);
            UPDATE timWhseBinInvt SET PendQtyDecrease = PendQtyDecrease - take
            WHERE ItemKey = _item AND WhseBinKey = b.WhseBinKey;
            todo := todo - take;
        END LOOP;
    END IF;
    INSERT INTO timInventory AS i (ItemKey, WhseKey, QtyOnSO) VALUES (_item, _whse, greatest(_qty, 0))
    ON CONFLICT (ItemKey, WhseKey) DO UPDATE SET QtyOnSO = greatest(i.QtyOnSO + _qty, 0);
END $$;

-- Validates one staged order and its lines, then writes tsoSalesOrder/tsoSOLine/tsoSOLineDist and
-- allocates stock. Nothing is written unless every check passes. Returns true on success.
CREATE OR REPLACE FUNCTION zSalesOrderInsert(h StgSalesOrder, _rpt int) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    ok boolean := true;
    l record;
    v_cust int;
    v_shipmeth int;
    v_whse int;
    v_item int;
    v_line_whse int;
    v_line_meth int;
    v_so int;
    v_line int;
    v_dist int;
    v_no int;
    v_tranno varchar(10);
    v_lines int := 0;
BEGIN
    SELECT CustKey INTO v_cust FROM tarCustomer
    WHERE CompanyID = h.CompanyID AND CustID = h.CustID AND Status IN (1, 3);
    IF v_cust IS NULL THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'CustID', h.CustID,
            format('Invalid CustID ''%s'': no active customer in company %s.', h.CustID, h.CompanyID));
        ok := false;
    END IF;
    IF h.DfltShipMethID <> '' THEN
        SELECT ShipMethKey INTO v_shipmeth FROM tciShipMethod
        WHERE CompanyID = h.CompanyID AND ShipMethID = h.DfltShipMethID;
        IF v_shipmeth IS NULL THEN
            PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'DfltShipMethID', h.DfltShipMethID,
                format('Invalid DfltShipMethID ''%s'': no such ship method in company %s.', h.DfltShipMethID, h.CompanyID));
            ok := false;
        END IF;
    END IF;
    SELECT WhseKey INTO v_whse FROM timWarehouse WHERE CompanyID = h.CompanyID AND WhseID = h.DfltWarehouseID;
    IF v_whse IS NULL THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'DfltWarehouseID', h.DfltWarehouseID,
            format('Invalid DfltWarehouseID ''%s'': no such warehouse in company %s.', h.DfltWarehouseID, h.CompanyID));
        ok := false;
    END IF;

    FOR l IN SELECT * FROM StgSOLine WHERE SessionKey = h.SessionKey AND TranNo = h.TranNo AND ProcessStatus = 0
             ORDER BY SOLineNo LOOP
        v_lines := v_lines + 1;
        IF NOT EXISTS (SELECT 1 FROM timItem WHERE CompanyID = h.CompanyID AND ItemID = l.ItemID AND Status = 1) THEN
            PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'ItemID', l.ItemID,
                format('Line %s: invalid ItemID ''%s'': the item does not exist or is not active in company %s.',
                       l.SOLineNo, l.ItemID, h.CompanyID));
            ok := false;
        END IF;
        IF l.QtyOrd <= 0 THEN
            PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'QtyOrd', l.QtyOrd::text,
                format('Line %s: QtyOrd must be greater than zero.', l.SOLineNo));
            ok := false;
        END IF;
        IF l.ShipMethID <> '' AND NOT EXISTS (
                SELECT 1 FROM tciShipMethod WHERE CompanyID = h.CompanyID AND ShipMethID = l.ShipMethID) THEN
            PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'ShipMethID', l.ShipMethID,
                format('Line %s: invalid ShipMethID ''%s''.', l.SOLineNo, l.ShipMethID));
            ok := false;
        END IF;
        IF l.WarehouseID <> '' AND NOT EXISTS (
                SELECT 1 FROM timWarehouse WHERE CompanyID = h.CompanyID AND WhseID = l.WarehouseID) THEN
            PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'WarehouseID', l.WarehouseID,
                format('Line %s: invalid WarehouseID ''%s''.', l.SOLineNo, l.WarehouseID));
            ok := false;
        END IF;
    END LOOP;
    IF v_lines = 0 THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'TranNo', h.TranNo,
            'The sales order has no lines in StgSOLine.');
        ok := false;
    END IF;
    IF NOT ok THEN
        RETURN false;
    END IF;

    CALL spGetNextSurrogateKey('tsoSalesOrder', v_so);
    UPDATE tsmCompany SET NextSOTranNo = NextSOTranNo + 1 WHERE CompanyID = h.CompanyID
    RETURNING NextSOTranNo - 1 INTO v_no;
    v_tranno := lpad(v_no::text, 10, '0');
    INSERT INTO tsoSalesOrder (SOKey, CompanyID, TranNo, TranNoRel, CustKey, TranDate, Status, Hold, HoldReason,
                               CustPONo, CurrID, DfltShipMethKey, DfltWhseKey, TranCmnt,
                               UserFld1, UserFld2, UserFld3, UserFld4)
    VALUES (v_so, h.CompanyID, v_tranno, v_tranno, v_cust, coalesce(h.TranDate, now()), 1, h.Hold, h.HoldReason,
            h.CustPONo, coalesce(nullif(h.CurrID, ''), (SELECT CurrID FROM tsmCompany WHERE CompanyID = h.CompanyID)),
            v_shipmeth, v_whse, h.TranCmnt, h.UserFld1, h.UserFld2, h.UserFld3, h.UserFld4);

    FOR l IN SELECT * FROM StgSOLine WHERE SessionKey = h.SessionKey AND TranNo = h.TranNo AND ProcessStatus = 0
             ORDER BY SOLineNo LOOP
        SELECT i.ItemKey INTO v_item FROM timItem i WHERE i.CompanyID = h.CompanyID AND i.ItemID = l.ItemID;
        v_line_whse := coalesce((SELECT WhseKey FROM timWarehouse
                                 WHERE CompanyID = h.CompanyID AND WhseID = nullif(l.WarehouseID, '')), v_whse);
        v_line_meth := coalesce((SELECT ShipMethKey FROM tciShipMethod
                                 WHERE CompanyID = h.CompanyID AND ShipMethID = nullif(l.ShipMethID, '')), v_shipmeth);
        CALL spGetNextSurrogateKey('tsoSOLine', v_line);
        INSERT INTO tsoSOLine (SOLineKey, SOKey, SOLineNo, ItemKey, Description, UnitPrice, UserFld1, UserFld2)
        VALUES (v_line, v_so, l.SOLineNo, v_item,
                coalesce(nullif(l.Description, ''), (SELECT ShortDesc FROM timItemDescription WHERE ItemKey = v_item), ''),
                l.UnitPrice, l.UserFld1, l.UserFld2);
        CALL spGetNextSurrogateKey('tsoSOLineDist', v_dist);
        INSERT INTO tsoSOLineDist (SOLineDistKey, SOLineKey, QtyOrd, QtyOpenToShip, ExtAmt, ShipMethKey, WhseKey,
                                   ShipDate, Hold)
        VALUES (v_dist, v_line, l.QtyOrd, l.QtyOrd,
                CASE WHEN l.ExtAmt <> 0 THEN l.ExtAmt ELSE round(l.QtyOrd * l.UnitPrice, 3) END,
                v_line_meth, v_line_whse, coalesce(l.ShipDate, h.DfltShipDate), l.Hold);
        PERFORM zMovePendingDecrease(v_item, v_line_whse, l.QtyOrd);
    END LOOP;
    UPDATE tsoSalesOrder SET OpenAmt = (
        SELECT coalesce(sum(d.ExtAmt), 0) FROM tsoSOLineDist d JOIN tsoSOLine sl ON sl.SOLineKey = d.SOLineKey
        WHERE sl.SOKey = v_so)
    WHERE SOKey = v_so;
    PERFORM zMigrationLog(h.SessionKey, _rpt, 3, h.TranNo, 'TranNo', v_tranno,
        format('Sales order %s created.', v_tranno));
    RETURN true;
END $$;

-- Action 2 (update) of an existing order; the emulator supports the status change to 'Canceled',
-- which releases the open quantities' allocations. Refused once anything has shipped.
CREATE OR REPLACE FUNCTION zSalesOrderUpdate(h StgSalesOrder, _rpt int) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    so record;
    dist record;
BEGIN
    SELECT * INTO so FROM tsoSalesOrder WHERE CompanyID = h.CompanyID AND TranNo = h.TranNo FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'TranNo', h.TranNo,
            format('Sales order %s does not exist in company %s.', h.TranNo, h.CompanyID));
        RETURN false;
    END IF;
    IF lower(h.Status) NOT IN ('canceled', 'cancelled') THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'Status', h.Status,
            format('Status ''%s'': only cancelling an order is supported by an update.', h.Status));
        RETURN false;
    END IF;
    IF so.Status = 3 THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 0, h.TranNo, 'Status', h.Status,
            format('Sales order %s is already canceled.', h.TranNo));
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM tsoSOLineDist d JOIN tsoSOLine sl ON sl.SOLineKey = d.SOLineKey
               WHERE sl.SOKey = so.SOKey AND d.QtyShip > 0) THEN
        PERFORM zMigrationLog(h.SessionKey, _rpt, 1, h.TranNo, 'Status', h.Status,
            format('Sales order %s has shipments and cannot be canceled.', h.TranNo));
        RETURN false;
    END IF;
    FOR dist IN SELECT ld.SOLineDistKey, ld.QtyOpenToShip, ld.WhseKey, sl.ItemKey
                FROM tsoSOLineDist ld JOIN tsoSOLine sl ON sl.SOLineKey = ld.SOLineKey
                WHERE sl.SOKey = so.SOKey LOOP
        PERFORM zMovePendingDecrease(dist.ItemKey, dist.WhseKey, -dist.QtyOpenToShip);
        UPDATE tsoSOLineDist SET QtyOpenToShip = 0, Status = 3 WHERE SOLineDistKey = dist.SOLineDistKey;
    END LOOP;
    UPDATE tsoSOLine SET Status = 2 WHERE SOKey = so.SOKey;
    UPDATE tsoSalesOrder SET Status = 3, OpenAmt = 0, UpdateDate = now() WHERE SOKey = so.SOKey;
    PERFORM zMigrationLog(h.SessionKey, _rpt, 3, h.TranNo, 'Status', h.Status,
        format('Sales order %s canceled.', h.TranNo));
    RETURN true;
END $$;

-- The start every API procedure shares: checks the parameters and the session (a problem is logged
-- and gives 3, parameter error), honours @_iCancel (gives 1). NULL means: go on and process rows.
CREATE OR REPLACE FUNCTION zApiCallStart(_session int, _company varchar, _use_stage int, _cancel int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    problem varchar;
BEGIN
    IF _use_stage IS DISTINCT FROM 1 THEN
        problem := '@_iUseStageTable must be 1: the emulator reads staging tables only.';
    ELSIF NOT EXISTS (SELECT 1 FROM tsmCompany WHERE CompanyID = _company) THEN
        problem := format('Company %s does not exist.', _company);
    ELSIF NOT EXISTS (SELECT 1 FROM tsmCompanySetup WHERE CompanyID = _company) THEN
        problem := format('Company %s has no tsmCompanySetup row.', _company);
    ELSIF NOT EXISTS (SELECT 1 FROM tsmMigrateSession WHERE MigrateSessionKey = _session AND CompanyID = _company) THEN
        problem := format('Migration session %s does not exist for company %s.', _session, _company);
    END IF;
    IF problem IS NOT NULL THEN
        PERFORM zMigrationLog(_session, 0, 1, '', 'SessionKey', _session::text, problem);
        RETURN 3;
    END IF;
    RETURN CASE WHEN _cancel = 1 THEN 1 END;
END $$;

CREATE OR REPLACE PROCEDURE spSOapiSalesOrdIns(
    INOUT _oContinue int, _iCancel int, _iSessionKey int, _iCompanyID varchar, _iRptOption int,
    _iPrintWarnings int, _iUseStageTable int, INOUT _oRecsProcessed int, INOUT _oFailedRecs int,
    INOUT _oTotalRecs int, INOUT _oRetVal int)
LANGUAGE plpgsql AS $$
DECLARE
    h StgSalesOrder;
    l record;
    ok boolean;
BEGIN
    _oContinue := 0;
    _oRetVal := zApiCallStart(_iSessionKey, _iCompanyID, _iUseStageTable, _iCancel);
    IF _oRetVal IS NOT NULL THEN
        RETURN;
    END IF;

    -- Lines without a header in this session are rejected.
    FOR l IN SELECT RowKey, TranNo, SOLineNo FROM StgSOLine s
             WHERE s.SessionKey = _iSessionKey AND s.ProcessStatus = 0 AND NOT EXISTS (
                 SELECT 1 FROM StgSalesOrder o WHERE o.SessionKey = _iSessionKey AND o.TranNo = s.TranNo) LOOP
        PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, l.TranNo, 'TranNo', l.TranNo,
            format('Line %s has no StgSalesOrder header with TranNo ''%s''.', l.SOLineNo, l.TranNo));
        UPDATE StgSOLine SET ProcessStatus = 2 WHERE RowKey = l.RowKey;
    END LOOP;

    FOR h IN SELECT * FROM StgSalesOrder
             WHERE SessionKey = _iSessionKey AND ProcessStatus = 0 ORDER BY RowKey
             LIMIT zMaxRowsPerRun() FOR UPDATE LOOP
        IF h.CompanyID <> _iCompanyID THEN
            PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, h.TranNo, 'CompanyID', h.CompanyID,
                format('CompanyID ''%s'' differs from the session''s company %s.', h.CompanyID, _iCompanyID));
            ok := false;
        ELSIF h.Action IN (0, 1) THEN
            ok := zSalesOrderInsert(h, _iRptOption);
        ELSIF h.Action = 2 THEN
            ok := zSalesOrderUpdate(h, _iRptOption);
        ELSE
            PERFORM zMigrationLog(_iSessionKey, _iRptOption, 1, h.TranNo, 'Action', h.Action::text,
                format('Action %s is not supported for sales orders.', h.Action));
            ok := false;
        END IF;
        UPDATE StgSalesOrder SET ProcessStatus = CASE WHEN ok THEN 1 ELSE 2 END WHERE RowKey = h.RowKey;
        UPDATE StgSOLine SET ProcessStatus = CASE WHEN ok THEN 1 ELSE 2 END
        WHERE SessionKey = _iSessionKey AND TranNo = h.TranNo AND ProcessStatus = 0;
    END LOOP;

    SELECT count(*) FILTER (WHERE ProcessStatus <> 0), count(*) FILTER (WHERE ProcessStatus = 2), count(*),
           CASE WHEN count(*) FILTER (WHERE ProcessStatus = 0) > 0 THEN 1 ELSE 0 END
    INTO _oRecsProcessed, _oFailedRecs, _oTotalRecs, _oContinue
    FROM StgSalesOrder WHERE SessionKey = _iSessionKey;
    UPDATE tsmMigrateSession SET LastCompProcessTime = now() WHERE MigrateSessionKey = _iSessionKey;
    _oRetVal := 1;
END $$;

-- Posting a shipment: shipped stock leaves the item's bins that may be allocated from (first bin
-- first), and its allocation is released.
CREATE OR REPLACE FUNCTION zIssueStock(_item int, _whse int, _qty numeric)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b record;
    take numeric;
    todo numeric := _qty;
BEGIN
    FOR b IN SELECT bi.WhseBinKey, bi.QtyOnHand
             FROM timWhseBinInvt bi JOIN timWhseBin wb ON wb.WhseBinKey = bi.WhseBinKey
             WHERE bi.ItemKey = _item AND wb.WhseKey = _whse AND wb.ExclFromAvail = 0
             ORDER BY bi.WhseBinKey FOR UPDATE OF bi LOOP
        EXIT WHEN todo <= 0;
        take := least(todo, greatest(b.QtyOnHand, 0));
        UPDATE timWhseBinInvt SET QtyOnHand = QtyOnHand - take WHERE ItemKey = _item AND WhseBinKey = b.WhseBinKey;
        todo := todo - take;
    END LOOP;
    IF todo > 0 THEN
        UPDATE timWhseBinInvt SET QtyOnHand = QtyOnHand - todo
        WHERE ItemKey = _item AND WhseBinKey = (
            SELECT min(bi.WhseBinKey) FROM timWhseBinInvt bi JOIN timWhseBin wb ON wb.WhseBinKey = bi.WhseBinKey
            WHERE bi.ItemKey = _item AND wb.WhseKey = _whse AND wb.ExclFromAvail = 0);
    END IF;
    PERFORM zMovePendingDecrease(_item, _whse, -_qty);
END $$;
